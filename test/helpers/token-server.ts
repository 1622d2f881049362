/**
 * A token service for the registry's `auth: token` mode, as Docker Hub runs one: RS256 JWTs signed with a
 * self-made certificate (openssl) that the registry trusts through `rootcertbundle`. Anonymous callers
 * get pull access to `public/*` only; alice (password "secret") gets what she asks for; a wrong password
 * is a 401. Every request is recorded.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

export const TOKEN_USER = { username: 'alice', password: 'secret' };

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  requests: { authorization?: string; scope: string[]; service?: string }[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export async function startTokenServer(dir: string): Promise<TokenServer> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      '/CN=vg-test-token',
      '-days',
      '2',
    ],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(keyFile));
  const der = new X509Certificate(readFileSync(certFile)).raw;
  const service = 'vg-test-registry';
  const issuer = 'vg-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const authorization = req.headers['authorization'];
    const scope = url.searchParams.getAll('scope');
    requests.push({
      ...(authorization ? { authorization } : {}),
      scope,
      ...(url.searchParams.get('service') ? { service: url.searchParams.get('service') ?? '' } : {}),
    });
    let user: string | undefined;
    if (authorization) {
      const [u, p] = Buffer.from(authorization.replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      if (u !== TOKEN_USER.username || p !== TOKEN_USER.password) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    }
    const access = scope.flatMap((s) => {
      const [type, name, actions] = s.split(':');
      if (type !== 'repository' || !name) return [];
      const granted = user ? (actions ?? '').split(',') : name.startsWith('public/') ? ['pull'] : [];
      return [{ type, name, actions: granted.filter((a) => a === 'pull' || user) }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] }));
    const claims = b64url(
      JSON.stringify({
        iss: issuer,
        sub: user ?? '',
        aud: service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access,
      }),
    );
    const signature = b64url(sign('sha256', Buffer.from(`${header}.${claims}`), key));
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: `${header}.${claims}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
