/**
 * A real local registry for tests and the bench: Debian's docker-registry (the CNCF distribution server)
 * on 127.0.0.1, with its own config and storage in a temp dir; and real pushes into it with skopeo.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export interface Registry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  storage: string;
  stop(): Promise<void>;
}

export type RegistryAuth =
  { htpasswd: string } | { token: { realm: string; service: string; issuer: string; rootcertbundle: string } };

export async function startRegistry(auth?: RegistryAuth): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'vg-registry-'));
  const port = await freePort();
  const storage = join(dir, 'storage');
  // YAML is a superset of JSON.
  const config = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}`, secret: 'test-only-secret' },
    ...(auth && 'htpasswd' in auth ? { auth: { htpasswd: { realm: 'test', path: auth.htpasswd } } } : {}),
    ...(auth && 'token' in auth ? { auth: { token: auth.token } } : {}),
  };
  writeFileSync(join(dir, 'config.yml'), JSON.stringify(config));
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/v2/`);
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`docker-registry did not start: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { host: `127.0.0.1:${port}`, port, storage, stop };
}

/** `skopeo copy` an OCI layout (its manifest `tag`, or its only one for '') into the registry (plain http). */
export async function push(
  layout: string,
  tag: string,
  dest: string,
  opts: { all?: boolean; format?: 'oci' | 'v2s2'; creds?: string } = {},
): Promise<void> {
  const args = [
    '--insecure-policy',
    'copy',
    '--dest-tls-verify=false',
    ...(opts.all ? ['--all'] : []),
    ...(opts.format ? ['--format', opts.format] : []),
    ...(opts.creds ? ['--dest-creds', opts.creds] : []),
    tag === '' ? `oci:${layout}` : `oci:${layout}:${tag}`,
    `docker://${dest}`,
  ];
  await new Promise<void>((resolve, reject) =>
    execFile('skopeo', args, { timeout: 300_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`skopeo ${args.join(' ')} failed: ${stderr || err.message}`)) : resolve(),
    ),
  );
}
