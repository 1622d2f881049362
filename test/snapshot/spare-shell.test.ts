/**
 * The agent's spare login shell (guest spare-shell.ts): in a clone restored from a snapshot the first
 * matching PTY shell is the one started in the template, with the requested TERM, environment and size;
 * it is handed out once, and later tabs (or a request that does not match) get a fresh bash.
 */
import { readFileSync } from 'node:fs';
import type { ClientChannel } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import type { VmSession } from '../../src/host/session.js';
import { openPtyShell } from '../../src/host/session-tui-backend.js';
import { QEMU_FILES } from '../../src/host/vm/qemu/args.js';
import { bootVm } from '../helpers/session.js';

const open: VmSession[] = [];
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

/** Types a command into a shell and returns the `key=value` words of the line it prints. */
async function ask(ch: ClientChannel, seen: { text: string }, command: string): Promise<Record<string, string>> {
  const tag = `R${Math.random().toString(36).slice(2, 8)}`;
  ch.write(`echo ${tag} ${command}\r`);
  const line = await new Promise<string>((resolve) => {
    const check = (): void => {
      // Not the echo of the typed line; the output may follow a mode escape (bracketed paste off).
      const m = new RegExp(`(?<!echo )${tag} (.*)$`, 'm').exec(seen.text.replace(/\r/g, ''));
      if (m?.[1]) resolve(m[1]);
      else ch.once('data', check);
    };
    check();
  });
  return Object.fromEntries(line.split(' ').map((w) => w.split('=') as [string, string]));
}

function transcript(ch: ClientChannel): { text: string } {
  const seen = { text: '' };
  ch.on('data', (d: Buffer) => (seen.text += d.toString()));
  return seen;
}

const consoleLog = (s: VmSession): string => readFileSync(s.dir.file(QEMU_FILES.console), 'utf8');

describe('spare shell', () => {
  it('the first tab gets the waiting shell with its own TERM/size/env; the next tabs get fresh ones', async () => {
    const s = await bootVm({ memory: '448M' });
    open.push(s);
    expect(s.restoredFrom).toBeDefined();
    const ssh = s.ssh!;
    // The clone's console (a new file) says nothing about the spare: it was started in the template.
    expect(consoleLog(s)).not.toMatch(/spare shell/);

    const tab1 = await openPtyShell(ssh, { cols: 117, rows: 41 });
    const t1 = transcript(tab1);
    const r1 = await ask(
      tab1,
      t1,
      'pid=$$ term=$TERM colorterm=$COLORTERM lang=$LANG size=$(stty size | tr " " x) cwd=$PWD',
    );
    expect(t1.text).toContain('root@ghost'); // the prompt printed before the restore is replayed
    const spare = /spare shell \(pid (\d+)\) handed to a session/.exec(consoleLog(s))?.[1];
    expect(spare, 'the first tab was served by the spare').toBeDefined();
    expect(consoleLog(s)).not.toMatch(/spare shell started/);
    expect(r1).toEqual({
      pid: spare,
      term: 'xterm-256color',
      colorterm: 'truecolor',
      lang: 'C.UTF-8',
      size: '41x117',
      cwd: '/root',
    });

    const tab2 = await openPtyShell(ssh, { cols: 90, rows: 20 });
    const t2 = transcript(tab2);
    const r2 = await ask(tab2, t2, 'pid=$$ term=$TERM size=$(stty size | tr " " x)');
    expect(r2.pid).not.toBe(spare);
    expect(r2).toMatchObject({ term: 'xterm-256color', size: '20x90' });

    // A request that does not match the spare (another TERM) is never served by it.
    const tab3 = await openPtyShell(ssh, { cols: 80, rows: 24 }, 'vt100');
    const t3 = transcript(tab3);
    const r3 = await ask(tab3, t3, 'pid=$$ term=$TERM');
    expect(r3.term).toBe('vt100');
    expect([spare, r2.pid]).not.toContain(r3.pid);
    expect(consoleLog(s).match(/handed to a session/g)).toHaveLength(1);

    // The first tab still works after the others came and went.
    tab2.close();
    tab3.close();
    expect((await ask(tab1, t1, 'sum=$((6*7))')).sum).toBe('42');
    tab1.close();
    await s.close();
  });
});
