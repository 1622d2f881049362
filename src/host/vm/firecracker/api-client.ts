/**
 * Typed HTTP client for Firecracker's REST API over its `--api-sock` Unix socket.
 *
 * Types come from api-types.generated.ts (generated from the official swagger), so a misspelt field or a
 * body sent to the wrong path is a compile error. Two protocol facts shape the code:
 * - Firecracker's HTTP server does not read chunked bodies: every body goes out in one piece with an explicit
 *   `Content-Length`.
 * - Errors are `{"fault_message": "..."}`: we surface that text verbatim together with the request.
 */
import { request as httpRequest } from 'node:http';
import type { paths } from './api-types.generated.js';
import { FirecrackerApiError, FirecrackerApiUnreachableError } from './errors.js';

type Method = 'get' | 'put' | 'patch';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** Methods the spec defines for a path (the generated type marks the others `?: never`). */
export type MethodsOf<P extends keyof paths> = {
  [M in Method]: [NonNullable<paths[P][M]>] extends [never] ? never : M;
}[Method];

type JsonContent<T> = T extends { content: { 'application/json': infer B } } ? B : never;
export type RequestBody<P extends keyof paths, M extends MethodsOf<P>> =
  Operation<P, M> extends { requestBody: infer R }
    ? JsonContent<R>
    : Operation<P, M> extends { requestBody?: infer R }
      ? JsonContent<NonNullable<R>> | undefined
      : undefined;
export type ResponseBody<P extends keyof paths, M extends MethodsOf<P>> =
  Operation<P, M> extends { responses: { 200: infer R } } ? JsonContent<R> : undefined;

/** `{drive_id}` style placeholders of a path template become required string parameters. */
type PathParams<P extends string> = P extends `${string}{${infer K}}${infer Rest}`
  ? { [k in K]: string } & PathParams<Rest>
  : unknown;

export type RequestOptions<P extends keyof paths, M extends MethodsOf<P>> = {
  signal?: AbortSignal;
  /** Per-request deadline; snapshot creation of a large guest may need more than the default. */
  timeoutMs?: number;
} & (RequestBody<P, M> extends undefined ? { body?: undefined } : { body: RequestBody<P, M> }) &
  (P extends `${string}{${string}}${string}` ? { params: PathParams<P> } : { params?: undefined });

export const DEFAULT_API_TIMEOUT_MS = 10_000;

export class FirecrackerApiClient {
  constructor(readonly socketPath: string) {}

  async call<P extends keyof paths, M extends MethodsOf<P>>(
    method: M,
    path: P,
    options: RequestOptions<P, M>,
  ): Promise<ResponseBody<P, M>> {
    const concretePath = fillPath(path, options.params as Record<string, string> | undefined);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const raw = await this.send(
      method.toUpperCase(),
      concretePath,
      body,
      options.signal,
      options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS,
    );
    return raw as ResponseBody<P, M>;
  }

  /** One HTTP exchange. Resolves with the parsed JSON body (undefined for 204), rejects with our errors. */
  private send(
    method: string,
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<unknown> {
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const deadline = AbortSignal.timeout(timeoutMs);
      const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
      // agent:false — a fresh connection per request: nothing pooled outlives the Firecracker process.
      const req = httpRequest(
        { socketPath: this.socketPath, method, path, headers, agent: false, signal: combined },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(this.unreachable(method, path, err)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if (status >= 200 && status < 300) {
              if (text.trim() === '') return resolve(undefined);
              try {
                return resolve(JSON.parse(text) as unknown);
              } catch (err) {
                return reject(
                  new FirecrackerApiUnreachableError(
                    `Firecracker API ${method} ${path} answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`,
                    { cause: err },
                  ),
                );
              }
            }
            reject(new FirecrackerApiError(method, path, status, faultMessageOf(text)));
          });
        },
      );
      req.on('error', (err) => {
        if (signal?.aborted) return reject(signal.reason);
        if (deadline.aborted)
          return reject(
            new FirecrackerApiUnreachableError(
              `Firecracker API ${method} ${path} got no answer within ${timeoutMs} ms on ${this.socketPath}`,
              { cause: err },
            ),
          );
        reject(this.unreachable(method, path, err));
      });
      req.end(payload);
    });
  }

  private unreachable(method: string, path: string, err: unknown): FirecrackerApiUnreachableError {
    const detail = err instanceof Error ? err.message : String(err);
    return new FirecrackerApiUnreachableError(
      `Firecracker API ${method} ${path} on ${this.socketPath} failed: ${detail}`,
      { cause: err },
    );
  }
}

/** Extracts `fault_message` from an error body; anything else is reported as received (truncated). */
export function faultMessageOf(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      parsed !== null &&
      typeof parsed === 'object' &&
      'fault_message' in parsed &&
      typeof parsed.fault_message === 'string'
    ) {
      return parsed.fault_message;
    }
  } catch {
    // not JSON: fall through and report the raw text
  }
  return text.trim() === '' ? '(empty response body)' : `(no fault_message) ${text.slice(0, 500)}`;
}

function fillPath(template: string, params: Record<string, string> | undefined): string {
  return template.replace(/\{([^}]+)\}/g, (_m, key: string) => {
    const value = params?.[key];
    if (value === undefined) throw new TypeError(`missing path parameter ${key} for ${template}`);
    return encodeURIComponent(value);
  });
}
