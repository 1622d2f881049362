/** SIGKILL of the host process must not leave a Firecracker behind (setpriv --pdeathsig KILL). */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FAKE_FC, isAlive, makeSandbox, waitFor, type Sandbox } from './helpers.js';

let sb: Sandbox;
let vmmPid: number | undefined;
beforeEach(async () => {
  sb = await makeSandbox();
});
afterEach(async () => {
  if (vmmPid !== undefined && isAlive(vmmPid)) process.kill(vmmPid, 'SIGKILL'); // never leak, even on failure
  await sb.cleanup();
});

it('SIGKILL of the host process takes the VMM down within a few seconds', async () => {
  const dir = await sb.dir('vm1');
  const viteNode = fileURLToPath(new URL('../../node_modules/vite-node/vite-node.mjs', import.meta.url));
  const script = fileURLToPath(new URL('./orphan-child.ts', import.meta.url));
  const child = spawn(process.execPath, [viteNode, script, dir.path, sb.kernel, sb.initrd, sb.rootfs, FAKE_FC], {
    env: sb.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(out.slice(0, nl));
    });
    child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  vmmPid = (JSON.parse(line) as { vmmPid: number }).vmmPid;
  expect(isAlive(vmmPid)).toBe(true);
  const childExit = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await childExit;
  expect(await waitFor(() => !isAlive(vmmPid ?? -1), 3_000)).toBe(true);
}, 30_000);
