/**
 * Text from state files and logs never reaches the terminal raw: a vm.json or kept.json field, or a line
 * of the guest's console log, with `ESC ] 0 ; … BEL` (set the title) and `ESC [ 2 J` (clear the screen) or a
 * one-character C1 CSI is printed escaped by `ps` and `logs`; `ps --json` stays JSON that parses back to
 * the same text, with every control character escaped.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identify, writeOwner } from '../../src/host/store/process-identity.js';
import { runCli } from '../helpers/cli.js';
import { said } from '../helpers/run-tool.js';

const HOSTILE = '\x1b]0;x\x07\x1b[2J';
const C1_CSI = '\u009b2J';
/** Any C0 control but newline, DEL, or C1; and the same but for tab, which `logs` keeps. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
// eslint-disable-next-line no-control-regex
const RAW_CONTROL_BUT_TAB = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

const root = mkdtempSync(join(tmpdir(), 'vg-state-text-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env: NodeJS.ProcessEnv = {
  XDG_RUNTIME_DIR: join(root, 'run'),
  XDG_STATE_HOME: join(root, 'state'),
  XDG_CONFIG_HOME: join(root, 'config'),
};

/** A VM "running" as far as ps can tell (its owner is this test process), with hostile text in vm.json and its console log. */
function plantRunning(name: string): void {
  const dir = join(root, 'run', 'virtualghost', 'vms', name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const me = identify(process.pid);
  if (!me) throw new Error('cannot identify this process');
  writeOwner(join(dir, 'owner.json'), { host: me, backend: 'qemu', createdAt: new Date().toISOString() });
  writeFileSync(
    join(dir, 'vm.json'),
    JSON.stringify({
      name,
      backend: HOSTILE,
      accel: C1_CSI,
      vcpus: 1,
      memoryMiB: 512,
      imageId: HOSTILE,
      startedAt: Date.now(),
      readyMs: 1,
      supervised: false,
    }),
  );
  writeFileSync(join(dir, 'console.log'), `booting\r\nguest says ${HOSTILE} and ${C1_CSI}\r\n\tindented\r\n`);
  writeFileSync(join(dir, 'qemu.log'), `qemu: ${HOSTILE}\n`);
}

/** A stopped kept VM whose kept.json carries hostile text where a number belongs. */
function plantKept(name: string): void {
  const dir = join(root, 'state', 'virtualghost', 'vms', name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(dir, 'kept.json'),
    JSON.stringify({ name, vcpus: HOSTILE, memoryMiB: C1_CSI, imageId: 'current' }),
  );
}

plantRunning('hostile');
plantKept('keptbad');

describe('state-file text is escaped', () => {
  it('ps prints vm.json and kept.json fields escaped, never as raw control characters', async () => {
    const r = await runCli(['ps'], { env });
    expect(r.code, said(r)).toBe(0);
    const out = r.stdout.toString();
    expect(out).not.toMatch(RAW_CONTROL);
    expect(out).toContain('\\x1b]0;x\\x07\\x1b[2J/\\x9b2J'); // BACKEND column: backend/accel
    expect(out).toMatch(/^keptbad +stopped +kept +- +\\x1b\]0;x\\x07\\x1b\[2J +\\x9b2JM/m);
    expect(out).toMatch(/^hostile +running +throw-away/m);
  });

  it('ps -q and ps --json: no raw control characters; the JSON parses back to the very same text', async () => {
    const q = await runCli(['ps', '-q'], { env });
    expect(q.stdout.toString()).toBe('hostile\nkeptbad\n');
    const r = await runCli(['ps', '--json'], { env });
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout.toString()).not.toMatch(RAW_CONTROL);
    const rows = JSON.parse(r.stdout.toString()) as Array<Record<string, unknown>>;
    expect(rows.find((row) => row['name'] === 'hostile')).toMatchObject({ backend: HOSTILE, accel: C1_CSI });
    expect(rows.find((row) => row['name'] === 'keptbad')).toMatchObject({ vcpus: HOSTILE, memoryMiB: C1_CSI });
  });

  it('a vm.json with a field of the wrong type is no record: ps does not crash on it', async () => {
    const dir = join(root, 'run', 'virtualghost', 'vms', 'garbled');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeOwner(join(dir, 'owner.json'), {
      host: identify(process.pid)!,
      backend: 'qemu',
      createdAt: new Date().toISOString(),
    });
    writeFileSync(
      join(dir, 'vm.json'),
      JSON.stringify({
        name: 'garbled',
        backend: 'qemu',
        accel: 'tcg',
        vcpus: 1,
        memoryMiB: 512,
        imageId: 'x',
        startedAt: HOSTILE,
        readyMs: 1,
        supervised: false,
      }),
    );
    try {
      const r = await runCli(['ps'], { env });
      expect(r.code, said(r)).toBe(0);
      expect(r.stdout.toString()).toMatch(/^garbled +starting/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs prints the guest console and VMM log escaped, keeping lines and tabs', async () => {
    const r = await runCli(['logs', 'hostile'], { env });
    expect(r.code, said(r)).toBe(0);
    const out = r.stdout.toString();
    expect(out).not.toMatch(RAW_CONTROL_BUT_TAB);
    expect(out).toBe(
      [
        '==> qemu.log <==',
        'qemu: \\x1b]0;x\\x07\\x1b[2J',
        '==> console.log (guest serial console) <==',
        'booting',
        'guest says \\x1b]0;x\\x07\\x1b[2J and \\x9b2J',
        '\tindented',
        '',
      ].join('\n'),
    );
  });
});
