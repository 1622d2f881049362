/**
 * One repository on one registry, spoken to over the distribution API (`/v2/<name>/…`): picks http or
 * https (scheme.ts), answers 401 challenges (anonymous or credentialed bearer tokens, Basic), follows
 * redirects itself (credentials never go to another origin, nor over plain http to a host not allowed it),
 * and turns transport failures into errors that name the registry.
 */
import { escapeControl } from '../../../shared/escape-control.js';
import { errorMessage } from '../../../shared/errors.js';
import { hasCredentials, registryCredentials, type RegistryCredentials } from './docker-config.js';
import { RegistryAuthError, RegistryNotFoundError, RegistryProtocolError, RegistryUnreachableError } from './errors.js';
import { apiHost, formatReference, type ImageReference } from './reference.js';
import { registryScheme, urlAllowed } from './scheme.js';
import { drain, readLimited } from './http-body.js';
import { bearerToken, parseChallenge } from './token.js';

export interface ClientOptions {
  insecureRegistries?: readonly string[];
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** How long to wait for a response's headers (ms). */
  headersTimeoutMs?: number;
}

const MAX_REDIRECTS = 5;

export class RegistryClient {
  readonly base: URL;
  private authorization: string | undefined;
  private creds: RegistryCredentials | undefined;
  private readonly insecure: readonly string[];

  constructor(
    readonly ref: ImageReference,
    private readonly opts: ClientOptions = {},
  ) {
    this.insecure = opts.insecureRegistries ?? [];
    const host = apiHost(ref.registry);
    this.base = new URL(`${registryScheme(host, this.insecure)}://${host}/v2/${ref.repository}/`);
  }

  get aborted(): boolean {
    return this.opts.signal?.aborted ?? false;
  }

  get name(): string {
    return formatReference(this.ref);
  }

  private credentials(): RegistryCredentials {
    this.creds ??= registryCredentials(this.ref.registry, this.opts.env ?? process.env);
    return this.creds;
  }

  /** GET `path` (relative to /v2/<name>/); 401 is answered once; 2xx and 206 are returned, the rest thrown. */
  async get(path: string, headers: Record<string, string> = {}, what = path): Promise<Response> {
    let res = await this.follow(new URL(path, this.base), headers);
    if (res.status === 401) {
      await drain(res);
      await this.authenticate(res.headers.get('www-authenticate'));
      res = await this.follow(new URL(path, this.base), headers);
    }
    if (res.ok) return res;
    throw await this.failure(res, what);
  }

  /** Sends the request, following redirects; Authorization only to the registry's own origin. */
  private async follow(url: URL, headers: Record<string, string>): Promise<Response> {
    for (let hop = 0; ; hop++) {
      const sameOrigin = url.origin === this.base.origin;
      const h: Record<string, string> = { ...headers };
      if (sameOrigin && this.authorization !== undefined) h['authorization'] = this.authorization;
      const res = await this.fetch(url, h);
      if (![301, 302, 303, 307, 308].includes(res.status)) return res;
      await drain(res);
      const location = res.headers.get('location');
      if (location === null || hop >= MAX_REDIRECTS)
        throw new RegistryProtocolError(
          `registry ${this.ref.registry} sent a redirect loop or one with no Location for ${this.name}`,
        );
      const next = new URL(location, url);
      if (!urlAllowed(next, this.insecure))
        throw new RegistryProtocolError(
          `registry ${this.ref.registry} redirected ${this.name} to ${escapeControl(next.origin)}, which is not https (plain http is only for loopback hosts and image.insecure_registries)`,
        );
      url = next;
    }
  }

  async fetch(url: URL, headers: Record<string, string>): Promise<Response> {
    // The time limit is for the answer's headers only: a large blob's body may take as long as it takes
    // (a stalled one is ended by undici's body timeout, and resumed).
    const noAnswer = new AbortController();
    const timer = setTimeout(
      () => noAnswer.abort(new DOMException('no answer in time', 'TimeoutError')),
      this.opts.headersTimeoutMs ?? 60_000,
    );
    const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, noAnswer.signal]) : noAnswer.signal;
    try {
      return await fetch(url, { headers, redirect: 'manual', signal });
    } catch (err) {
      if (this.aborted) throw this.opts.signal?.reason;
      throw this.unreachable(url, noAnswer.signal.aborted ? noAnswer.signal.reason : err);
    } finally {
      clearTimeout(timer);
    }
  }

  unreachable(url: URL, err: unknown): RegistryUnreachableError {
    const cause = (err as { cause?: unknown }).cause;
    const why = timedOut(err) ? 'no answer in time' : errorMessage(cause ?? err);
    return new RegistryUnreachableError(
      `cannot reach registry ${this.ref.registry} (${url.origin}) for ${this.name}: ${escapeControl(why)}; check the name, the network, and that the registry is up`,
      { cause: err },
    );
  }

  private async authenticate(header: string | null): Promise<void> {
    const creds = this.credentials();
    const challenge = header === null ? undefined : parseChallenge(header);
    if (challenge?.scheme === 'bearer') {
      const scope = challenge.params['scope'] ?? `repository:${this.ref.repository}:pull`;
      this.authorization = `Bearer ${await bearerToken(this, challenge.params, scope, creds, this.insecure)}`;
      return;
    }
    if (challenge?.scheme === 'basic' && creds.basic) {
      const { username, password } = creds.basic;
      this.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      return;
    }
    if (creds.bearer !== undefined) {
      this.authorization = `Bearer ${creds.bearer}`;
      return;
    }
    throw this.needsCredentials(401);
  }

  needsCredentials(status: number): RegistryAuthError {
    const creds = this.credentials();
    const registry = this.ref.registry;
    if (hasCredentials(creds))
      return new RegistryAuthError(
        `registry ${registry} refused the credentials in ${creds.file} for ${this.name} (${status}): check them (\`docker login ${registry}\`) and that they may pull this repository`,
      );
    if (creds.helper !== undefined)
      return new RegistryAuthError(
        `registry ${registry} needs credentials for ${this.name} (${status}); ${creds.file} keeps them in the credential helper docker-credential-${escapeControl(creds.helper)}, which VirtualGhost does not run: add an "auths" entry for ${registry} with "auth": base64 of "user:password"`,
      );
    return new RegistryAuthError(
      `registry ${registry} needs credentials for ${this.name} (${status}), or the repository does not exist: add them to ${creds.file} (\`docker login ${registry}\`, or "auths": {"${registry}": {"auth": base64 of "user:password"}})`,
    );
  }

  private async failure(res: Response, what: string): Promise<Error> {
    const body = await readLimited(res, 64 * 1024).catch(() => Buffer.alloc(0));
    const codes = errorCodes(body);
    const detail = codes.length ? ` (${escapeControl(codes.join(', '))})` : '';
    if (res.status === 401 || res.status === 403) return this.needsCredentials(res.status);
    if (res.status === 404)
      return new RegistryNotFoundError(
        `registry ${this.ref.registry} has no ${what} for ${this.name}${detail}: check the name, tag and digest`,
      );
    return new RegistryProtocolError(
      `registry ${this.ref.registry} answered ${res.status} for ${what} of ${this.name}${detail}`,
    );
  }
}

function timedOut(err: unknown): boolean {
  return (err as { name?: string }).name === 'TimeoutError';
}

/** The `errors[].code` of a distribution error body (MANIFEST_UNKNOWN, NAME_UNKNOWN, DENIED…). */
function errorCodes(body: Buffer): string[] {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] };
    return (doc.errors ?? []).flatMap((e) => (typeof e.code === 'string' ? [e.code.slice(0, 64)] : []));
  } catch {
    return [];
  }
}
