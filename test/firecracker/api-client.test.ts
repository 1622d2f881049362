/** The typed API client on its own, and the generated types' freshness. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FirecrackerApiClient } from '../../src/host/vm/firecracker/api-client.js';
import { FirecrackerApiError, FirecrackerApiUnreachableError } from '../../src/host/vm/firecracker/errors.js';
import { spawnVmm, terminate, waitForSocket, type VmmProcess } from '../../src/host/vm/vmm-process.js';
import { FAKE_FC, makeSandbox, specErrors, type Sandbox } from './helpers.js';
import { DEFAULT_SPEC_PATH } from './spec-validate.mjs';

let sb: Sandbox;
let proc: VmmProcess;
let api: FirecrackerApiClient;
beforeEach(async () => {
  sb = await makeSandbox();
  const dir = await sb.dir('api');
  proc = spawnVmm([FAKE_FC, '--api-sock', 'fc.sock'], {
    cwd: dir.path,
    stdoutPath: dir.file('out'),
    stderrPath: dir.file('err'),
    env: sb.env,
  });
  expect(await waitForSocket(dir.file('fc.sock'), proc, 5_000)).toBe('ready');
  api = new FirecrackerApiClient(dir.file('fc.sock'));
});
afterEach(async () => {
  await terminate(proc, 1_000);
  await sb.cleanup();
});

describe('FirecrackerApiClient', () => {
  it('sends JSON with Content-Length (never chunked) and parses 200 bodies', async () => {
    await api.call('put', '/machine-config', { body: { vcpu_count: 2, mem_size_mib: 300 } });
    const info = await api.call('get', '/', {});
    expect(info.state).toBe('Not started');
    expect(await api.call('get', '/machine-config', {})).toMatchObject({ vcpu_count: 2, mem_size_mib: 300 });
    expect(specErrors(sb.entries())).toEqual([]);
    const put = sb.requests().find((r) => r.method === 'PUT');
    expect(put?.headers).toEqual({
      'content-length': String(put?.raw?.length),
      'transfer-encoding': undefined,
      'content-type': 'application/json',
    });
  });

  it('fills path parameters', async () => {
    await api.call('put', '/drives/{drive_id}', {
      params: { drive_id: 'rootfs' },
      body: { drive_id: 'rootfs', path_on_host: sb.rootfs, is_root_device: true, is_read_only: true },
    });
    expect(sb.requests().at(-1)).toMatchObject({ path: '/drives/rootfs', status: 204 });
  });

  it('a body the spec rejects surfaces fault_message verbatim with method, path and status', async () => {
    // Bypass the types on purpose: this is what a bug in our code would send.
    const bad = { vcpu_count: 0, mem_size_mib: 128 } as unknown as { vcpu_count: number; mem_size_mib: number };
    const err = await api.call('put', '/machine-config', { body: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirecrackerApiError);
    const recorded = sb.requests().at(-1);
    expect(recorded?.fault).toMatch(/vcpu_count must be >= 1/);
    expect(err).toMatchObject({
      code: 'FIRECRACKER_API_FAULT',
      method: 'PUT',
      path: '/machine-config',
      status: 400,
      faultMessage: recorded?.fault,
    });
    expect((err as Error).message).toBe(`Firecracker API PUT /machine-config failed with HTTP 400: ${recorded?.fault}`);
  });

  it('reports an unreachable socket as such', async () => {
    const err = await new FirecrackerApiClient(join(sb.root, 'none.sock'))
      .call('get', '/version', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirecrackerApiUnreachableError);
    expect((err as Error).message).toContain('none.sock');
  });
});

describe('generated API types', () => {
  let out: string;
  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'vg-gen-'));
  });
  afterEach(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('are up to date with the swagger (regenerate: node scripts/gen-firecracker-types.mjs)', () => {
    const script = fileURLToPath(new URL('../../scripts/gen-firecracker-types.mjs', import.meta.url));
    const committed = fileURLToPath(new URL('../../src/host/vm/firecracker/api-types.generated.ts', import.meta.url));
    execFileSync(process.execPath, [script, DEFAULT_SPEC_PATH, join(out, 'gen.ts')], { stdio: 'ignore' });
    expect(readFileSync(join(out, 'gen.ts'), 'utf8')).toBe(readFileSync(committed, 'utf8'));
  });
});
