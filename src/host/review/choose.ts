/**
 * The questions of an interactive review, on a terminal: apply all, choose per file, view the diff, or
 * discard. Line-based (a letter and Enter), on stderr, so `exec`'s stdout stays the command's.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { escapeControl } from '../../shared/escape-control.js';
import { changeLine, isDirBookkeeping, type Change } from './changes.js';
import { changeDiff, countsLine, summaryLines, type Paint } from './screen.js';
import type { Staging } from './staging.js';

export interface Terminal {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

/** Long text through $PAGER (else `less -R`); short text straight to the terminal. */
async function page(term: Terminal, lines: readonly string[]): Promise<void> {
  if (lines.length < (term.output.rows || 24) - 2) {
    term.output.write(`${lines.join('\n')}\n`);
    return;
  }
  const pager = process.env['PAGER'] || 'less -R';
  await new Promise<void>((resolve) => {
    const child = spawn('sh', ['-c', pager], {
      stdio: ['pipe', 'inherit', 'inherit'],
      env: { LESS: 'FRX', ...process.env },
    });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

/** Directories added or deleted follow the entries chosen inside them. */
export function withDirs(all: readonly Change[], chosen: ReadonlySet<Change>): Change[] {
  const picked = all.filter((c) => chosen.has(c) && !isDirBookkeeping(c));
  const out = new Set(picked);
  for (const d of all.filter(isDirBookkeeping)) {
    const under = (p: string): boolean => p === d.path || p.startsWith(`${d.path}/`);
    const inside = all.filter((c) => c !== d && (under(c.path) || (c.from !== undefined && under(c.from))));
    if (d.kind === 'added' ? inside.length === 0 || inside.some((c) => out.has(c)) : inside.every((c) => out.has(c)))
      out.add(d);
  }
  return all.filter((c) => out.has(c));
}

export async function askReview(
  changes: readonly Change[],
  staging: Staging,
  hostDir: string,
  term: Terminal,
): Promise<Change[]> {
  const p: Paint = { colour: true };
  if (term.input.isTTY) term.input.setRawMode(false);
  const rl = createInterface({ input: term.input, output: term.output, terminal: true });
  let closed = false;
  rl.on('close', () => (closed = true));
  // Ctrl-C at a question: discard (the answer an empty line gives), not a prompt left paused.
  rl.on('SIGINT', () => {
    term.output.write('^C\n');
    rl.close();
  });
  const ask = (q: string): Promise<string> =>
    closed
      ? Promise.resolve('')
      : new Promise((resolve) => {
          rl.once('close', () => resolve(''));
          rl.question(q, (a) => resolve(a.trim().toLowerCase()));
        });
  const shownDir = escapeControl(hostDir);
  try {
    // A long summary goes through the pager too, so the question does not scroll its start away.
    await page(term, [
      `\nvirtualghost: the VM changed ${shownDir}: ${countsLine(changes)}`,
      ...summaryLines(changes, p),
    ]);
    for (;;) {
      const a = await ask(`Apply to ${shownDir}? [a]pply all, [c]hoose per file, [v]iew the diff, [d]iscard: `);
      if (a === 'a' || a === 'apply') return [...changes];
      if (a === 'd' || a === 'discard' || a === '') return [];
      if (a === 'v' || a === 'view')
        await page(
          term,
          changes.filter((c) => !isDirBookkeeping(c)).flatMap((c) => changeDiff(c, staging, p)),
        );
      if (a === 'c' || a === 'choose') return await choosePerFile(changes, staging, term, p, ask);
    }
  } finally {
    rl.close();
  }
}

async function choosePerFile(
  changes: readonly Change[],
  staging: Staging,
  term: Terminal,
  p: Paint,
  ask: (q: string) => Promise<string>,
): Promise<Change[]> {
  const chosen = new Set<Change>();
  const asked = changes.filter((c) => !isDirBookkeeping(c));
  for (let i = 0; i < asked.length; i++) {
    const c = asked[i] as Change;
    await page(term, changeDiff(c, staging, p));
    const { mark, text } = changeLine(c);
    const a = await ask(`Apply ${mark} ${escapeControl(text)}? [y]es, [n]o, [a]ll the rest, [d]iscard the rest: `);
    if (a === 'y' || a === 'yes') chosen.add(c);
    else if (a === 'a') {
      for (const rest of asked.slice(i)) chosen.add(rest);
      break;
    } else if (a === 'd' || a === '') break;
  }
  return withDirs(changes, chosen);
}
