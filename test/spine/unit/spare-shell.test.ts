/**
 * The agent's spare shell on this host's own bash (the matching rules, without a VM): only a PTY shell
 * request with the spare's TERM and exactly its environment gets it, at most once, with its earlier
 * output (the prompt) and the requested size.
 */
import type { IPty } from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { SpareShell } from '../../../src/guest/spare-shell.js';
import { SPARE_ENV, SPARE_TERM } from '../../../src/shared/spare-shell.js';

const started: IPty[] = [];
afterEach(() => {
  for (const p of started.splice(0)) p.kill('SIGKILL');
});

async function readyShell(logs: string[]): Promise<SpareShell> {
  const spare = new SpareShell((m) => logs.push(m));
  spare.ensure();
  for (let i = 0; i < 200 && !logs.some((l) => l.startsWith('spare shell ready')); i++)
    await new Promise((r) => setTimeout(r, 25));
  return spare;
}

describe('SpareShell', () => {
  it('is handed out once, to a request with its TERM and environment, with its prompt and the asked-for size', async () => {
    const logs: string[] = [];
    const spare = await readyShell(logs);
    expect(spare.take({ term: 'vt100', cols: 80, rows: 24 }, { ...SPARE_ENV })).toBeUndefined();
    expect(spare.take({ term: SPARE_TERM, cols: 80, rows: 24 }, { ...SPARE_ENV, EXTRA: '1' })).toBeUndefined();
    expect(spare.take({ term: SPARE_TERM, cols: 80, rows: 24 }, { LANG: 'C.UTF-8' })).toBeUndefined();

    const taken = spare.take({ term: SPARE_TERM, cols: 123, rows: 45 }, { ...SPARE_ENV });
    expect(taken).toBeDefined();
    started.push(taken!.proc);
    expect(taken!.earlier.length).toBeGreaterThan(0); // bash printed its prompt before anyone asked
    expect([taken!.proc.cols, taken!.proc.rows]).toEqual([123, 45]);
    expect(spare.take({ term: SPARE_TERM, cols: 80, rows: 24 }, { ...SPARE_ENV })).toBeUndefined();
    expect(logs.filter((l) => l.includes('handed to a session'))).toHaveLength(1);
  });

  it('a spare that exited is not handed out; ensure() starts a new one', async () => {
    const logs: string[] = [];
    const spare = await readyShell(logs);
    const first = /pid (\d+)/.exec(logs[0] ?? '')?.[1];
    process.kill(Number(first), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(spare.take({ term: SPARE_TERM, cols: 80, rows: 24 }, { ...SPARE_ENV })).toBeUndefined();
    spare.ensure();
    const taken = spare.take({ term: SPARE_TERM, cols: 80, rows: 24 }, { ...SPARE_ENV });
    expect(taken).toBeDefined();
    started.push(taken!.proc);
    expect(String(taken!.proc.pid)).not.toBe(first);
  });
});
