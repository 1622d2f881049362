/** Shared fixtures for the Firecracker tests: a temp sandbox, the stand-in binary, its request log. */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InstanceDir, VmSpec } from '../../src/host/vm/driver.js';
import { FirecrackerDriverFactory, type FirecrackerOptions } from '../../src/host/vm/firecracker/driver.js';
import { loadSpec } from './spec-validate.mjs';

export const FAKE_FC = fileURLToPath(new URL('./fake-firecracker.mjs', import.meta.url));
export const spec = loadSpec();

export interface LogEntry {
  event: 'start' | 'request' | 'exit' | 'vsock-connect';
  pid: number;
  method?: string;
  path?: string;
  headers?: Record<string, string | undefined>;
  raw?: string;
  status?: number;
  fault?: string;
  argv?: string[];
  cwd?: string;
  line?: string;
}

export interface Sandbox {
  root: string;
  log: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  echoSocket: string;
  env: NodeJS.ProcessEnv;
  dir(name: string): Promise<InstanceDir>;
  vmSpec(overrides?: Partial<VmSpec>): VmSpec;
  factory(overrides?: Partial<FirecrackerOptions>, env?: NodeJS.ProcessEnv): FirecrackerDriverFactory;
  entries(): LogEntry[];
  requests(pid?: number): LogEntry[];
  cleanup(): Promise<void>;
}

/** Echo server standing in for the guest agent's vsock listener. */
function echoServer(path: string): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  return new Promise((resolve) => server.listen(path, () => resolve({ server, sockets })));
}

export async function makeSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'vg-fc-'));
  const kernel = join(root, 'vmlinux');
  const initrd = join(root, 'initrd.img');
  const rootfs = join(root, 'base.ext4');
  await writeFile(kernel, 'ELF-ish kernel');
  await writeFile(initrd, 'initrd');
  await writeFile(rootfs, 'BASE IMAGE');
  const log = join(root, 'fc-requests.jsonl');
  const echoSocket = join(root, 'echo.sock');
  const echo = await echoServer(echoSocket);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FAKE_FC_LOG: log,
    FAKE_FC_GUEST_PORTS: JSON.stringify({ '10022': echoSocket, '10023': echoSocket }),
  };
  const entries = (): LogEntry[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as LogEntry)
      : [];
  return {
    root,
    log,
    kernel,
    initrd,
    rootfs,
    echoSocket,
    env,
    async dir(name) {
      const path = join(root, name);
      await mkdir(path, { mode: 0o700, recursive: true });
      return { path, file: (f: string) => join(path, f) };
    },
    vmSpec: (o = {}) => ({
      name: 'test-vm',
      vcpus: 2,
      memoryMiB: 256,
      kernelPath: kernel,
      initrdPath: initrd,
      rootfsPath: rootfs,
      ...o,
    }),
    factory: (o = {}, extraEnv = {}) =>
      new FirecrackerDriverFactory({ bin: FAKE_FC, kvmCheck: false, env: { ...env, ...extraEnv }, ...o }),
    entries,
    requests: (pid) => entries().filter((e) => e.event === 'request' && (pid === undefined || e.pid === pid)),
    async cleanup() {
      for (const s of echo.sockets) s.destroy();
      await new Promise((r) => echo.server.close(r));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Re-validates what the stand-in recorded, independently of its own checks. */
export function specErrors(entries: LogEntry[]): string[] {
  const errors: string[] = [];
  for (const e of entries) {
    if (e.event !== 'request' || !e.method || !e.path) continue;
    const body = e.raw ? (JSON.parse(e.raw) as unknown) : undefined;
    const r = spec.validateBody(e.method, new URL(e.path, 'http://localhost').pathname, body);
    errors.push(...r.errors.map((m) => `${e.method} ${e.path}: ${m}`));
    if (body !== undefined && e.headers?.['content-length'] !== String(Buffer.byteLength(e.raw ?? '')))
      errors.push(
        `${e.method} ${e.path}: Content-Length ${e.headers?.['content-length']} for ${Buffer.byteLength(e.raw ?? '')} bytes`,
      );
    if (e.headers?.['transfer-encoding'] !== undefined)
      errors.push(`${e.method} ${e.path}: Transfer-Encoding ${e.headers['transfer-encoding']}`);
  }
  return errors;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}
