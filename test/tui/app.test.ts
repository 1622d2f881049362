/**
 * runTui in-process: fake user's terminal (a headless xterm behind a Writable) and fake shells.
 * Covers what the tmux test cannot observe: emulator replies to the guest, title and bell
 * passthrough, the OSC 52 policy, first-frame sizing, resize and restore on quit.
 */
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runTui } from '../../src/host/tui/index.js';
import type { ShellStream, TuiBackend, TuiOptions, TuiResult } from '../../src/host/tui/index.js';
import { createXterm, isCursorHidden, type XTerminal } from '../../src/host/tui/xterm.js';
import { write } from './helpers.js';

class FakeShell implements ShellStream {
  written = '';
  sizes: Array<[number, number]> = [];
  private listeners: Array<(d: Uint8Array) => void> = [];
  private resolveExit: (r: { code: number | null; signal: string | null }) => void = () => undefined;
  readonly exited = new Promise<{ code: number | null; signal: string | null }>((r) => {
    this.resolveExit = r;
  });
  constructor(readonly size: { cols: number; rows: number }) {}
  write(data: string | Uint8Array): void {
    this.written += typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  }
  onData(cb: (d: Uint8Array) => void): void {
    this.listeners.push(cb);
  }
  resize(cols: number, rows: number): void {
    this.sizes.push([cols, rows]);
  }
  close(): void {
    this.resolveExit({ code: null, signal: 'SIGHUP' });
  }
  emit(text: string): void {
    for (const l of this.listeners) l(Buffer.from(text));
  }
  exit(code: number): void {
    this.resolveExit({ code, signal: null });
  }
}

class Harness {
  readonly input = Object.assign(new PassThrough(), { isTTY: false, setRawMode: () => undefined });
  readonly outer: XTerminal;
  readonly raw: string[] = [];
  readonly output: Writable & { columns: number; rows: number };
  readonly shells: FakeShell[] = [];
  titles: string[] = [];
  bells = 0;
  result: Promise<TuiResult> | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(cols = 60, rows = 12) {
    this.outer = createXterm(cols, rows, 100);
    this.outer.onTitleChange((t) => this.titles.push(t));
    this.outer.onBell(() => this.bells++);
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        const s = chunk.toString();
        this.raw.push(s);
        this.pending = this.pending.then(() => write(this.outer, s));
        cb();
      },
    });
    this.output = Object.assign(sink, { columns: cols, rows });
  }

  start(
    opts: Partial<TuiOptions> = {},
    connection: 'connected' | 'lost' = 'connected',
    extra: Partial<TuiBackend> = {},
  ): void {
    const backend: TuiBackend = {
      ...extra,
      openShell: (size) => {
        const shell = new FakeShell(size);
        this.shells.push(shell);
        return Promise.resolve(shell);
      },
      statusInfo: () => ({
        name: 'vm-test',
        backend: 'qemu',
        accel: 'tcg',
        vcpus: 1,
        memoryMiB: 256,
        startedAt: Date.now(),
        connection,
      }),
    };
    this.result = runTui(
      backend,
      { input: this.input as unknown as NodeJS.ReadStream, output: this.output as unknown as NodeJS.WriteStream },
      { statusPosition: 'bottom', prefixKey: 'C-]', clipboard: 'ask', scrollback: 100, ...opts },
    );
  }

  async settle(ms = 40): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    await this.pending;
  }

  row(y: number): string {
    return this.outer.buffer.active.getLine(this.outer.buffer.active.baseY + y)?.translateToString(true) ?? '';
  }

  get out(): string {
    return this.raw.join('');
  }

  shell(i = 0): FakeShell {
    const s = this.shells[i];
    if (!s) throw new Error(`no shell ${i}`);
    return s;
  }
}

let h: Harness;
afterEach(async () => {
  // prefix-q, and y for a quit question (a test's backend may make prefix-q ask, or have left one open).
  let ended = false;
  void h.result?.then(() => (ended = true));
  for (let i = 0; i < 20 && !ended; i++) {
    h.input.write('\x1dq');
    await new Promise((r) => setTimeout(r, 25));
    if (!ended) h.input.write('y');
    await new Promise((r) => setTimeout(r, 25));
  }
  await h.result;
  h.outer.dispose();
});

describe('runTui', () => {
  it("NO_COLOR: the status line's alert is not red, by default from the environment", async () => {
    const redCells = async (env: string | undefined): Promise<number> => {
      if (env === undefined) delete process.env['NO_COLOR'];
      else process.env['NO_COLOR'] = env;
      h = new Harness(60, 6);
      h.start({}, 'lost');
      await h.settle();
      const status = h.outer.buffer.active.getLine(h.outer.buffer.active.baseY + 5);
      expect(status?.translateToString(true)).toContain('lost');
      let red = 0;
      for (let x = 0; x < 60; x++)
        if (status?.getCell(x)?.isFgPalette() && status.getCell(x)?.getFgColor() === 1) red++;
      h.input.write('\x1dq');
      await h.result;
      h.outer.dispose();
      return red;
    };
    const saved = process.env['NO_COLOR'];
    try {
      expect(await redCells(undefined)).toBeGreaterThan(0);
      expect(await redCells('1')).toBe(0);
    } finally {
      if (saved === undefined) delete process.env['NO_COLOR'];
      else process.env['NO_COLOR'] = saved;
    }
    h = new Harness(60, 6);
    h.start();
  });

  it("NO_COLOR (color: false) never filters the guest's own colours", async () => {
    h = new Harness(60, 12);
    h.start({ color: false });
    await h.settle();
    h.shell().emit('\x1b[31mred\x1b[0m plain');
    await h.settle();
    const line = h.outer.buffer.active.getLine(h.outer.buffer.active.baseY);
    expect(line?.translateToString(true)).toBe('red plain');
    const cell = line?.getCell(0);
    expect(cell?.isFgPalette()).toBeTruthy();
    expect(cell?.getFgColor()).toBe(1);
  });

  it('opens the first shell at the terminal size minus the status line, and draws both', async () => {
    h = new Harness(60, 12);
    h.start();
    await h.settle();
    expect(h.shell().size).toEqual({ cols: 60, rows: 11 });
    h.shell().emit('hello from the guest\r\n$ ');
    await h.settle();
    expect(h.row(0)).toBe('hello from the guest');
    expect(h.row(11)).toContain('vm-test');
    expect(h.outer.buffer.active.type).toBe('alternate');
  });

  it('answers terminal queries (DA, DSR) back to the guest', async () => {
    h = new Harness();
    h.start();
    await h.settle();
    h.shell().emit('ab\x1b[c\x1b[6n');
    await h.settle();
    expect(h.shell().written).toContain('\x1b[?1;2c');
    expect(h.shell().written).toContain('\x1b[1;3R');
  });

  it('forwards keystrokes at once, and passes title and bell to the terminal', async () => {
    h = new Harness();
    h.start();
    await h.settle();
    h.input.write('ls\r');
    await new Promise((r) => setImmediate(r));
    expect(h.shell().written).toBe('ls\r');
    h.shell().emit('\x1b]2;user@guest: ~/src\x07\x07');
    await h.settle();
    expect(h.titles.at(-1)).toBe('user@guest: ~/src');
    expect(h.bells).toBe(1);
    // An escape inside the title ends it in the guest's emulator: nothing can be smuggled through.
    h.shell().emit('\x1b]2;evil\x1b[?1049l\x07');
    await h.settle();
    expect(h.titles.at(-1)).toBe('evil');
    expect(h.outer.buffer.active.type).toBe('alternate');
  });

  it("draws a keystroke's echo in the next turn of the event loop, even right after a frame", async () => {
    h = new Harness();
    h.start();
    await h.settle();
    // A frame has just been drawn (output arrived): an ordinary frame would now wait ~8 ms.
    h.shell().emit('$ ');
    await new Promise((r) => setImmediate(r));
    const before = h.out.length;
    expect(before).toBeGreaterThan(0);
    h.input.write('k');
    await new Promise((r) => setImmediate(r));
    expect(h.shell().written).toBe('k');
    expect(h.out.length).toBe(before); // typing alone draws nothing: the guest has not answered yet
    h.shell().emit('k');
    await new Promise((r) => setImmediate(r));
    expect(h.out.slice(before)).toContain('k');
  });

  it('OSC 52 "ask": nothing reaches the clipboard until the user allows it with prefix y', async () => {
    h = new Harness(100, 10);
    h.start({ clipboard: 'ask' });
    await h.settle();
    h.shell().emit('\x1b]52;c;aGVsbG8=\x07');
    await h.settle();
    expect(h.out).not.toContain('\x1b]52;');
    expect(h.row(9)).toContain('guest wants to copy 5 bytes');
    h.input.write('\x1dy');
    await h.settle();
    expect(h.out).toContain('\x1b]52;c;aGVsbG8=\x07');
  });

  it('OSC 52 "deny" drops writes, "allow" forwards them, and reads are never answered', async () => {
    h = new Harness();
    h.start({ clipboard: 'deny' });
    await h.settle();
    h.shell().emit('\x1b]52;c;aGVsbG8=\x07');
    h.input.write('\x1dy');
    await h.settle();
    expect(h.out).not.toContain('\x1b]52;');
    h.input.write('\x1dq');
    await h.result;
    h = new Harness();
    h.start({ clipboard: 'allow' });
    await h.settle();
    h.shell().emit('\x1b]52;c;?\x07\x1b]52;c;aGk=\x07');
    await h.settle();
    expect(h.out).toContain('\x1b]52;c;aGk=\x07');
    expect(h.out).not.toContain('\x1b]52;c;?');
    expect(h.shell().written).not.toContain('52');
  });

  it('copy mode: search and copy a line through OSC 52', async () => {
    h = new Harness(60, 8);
    h.start({ clipboard: 'allow' });
    await h.settle();
    h.shell().emit(Array.from({ length: 30 }, (_, i) => `line ${i} ${i === 4 ? 'needle' : ''}`).join('\r\n'));
    await h.settle();
    h.input.write('\x1d[');
    h.input.write('/needle');
    await h.settle();
    expect(h.row(7)).toContain('[/needle]'); // the prompt shows the key that started the search
    h.input.write('\r');
    await h.settle();
    expect(h.row(7)).toContain('COPY');
    expect(h.out).not.toContain('\x1b]52;');
    h.input.write('y');
    await h.settle();
    expect(h.out).toContain(`\x1b]52;c;${Buffer.from('line 4 needle').toString('base64')}\x07`);
  });

  it('follows a resize: shells get the new size and the status line moves to the new last row', async () => {
    h = new Harness(60, 12);
    h.start();
    await h.settle();
    h.output.columns = 80;
    h.output.rows = 20;
    h.outer.resize(80, 20);
    h.output.emit('resize');
    await h.settle();
    expect(h.shell().sizes.at(-1)).toEqual([80, 19]);
    expect(h.row(19)).toContain('vm-test');
  });

  it("ends with the last shell's exit code and restores the terminal", async () => {
    h = new Harness();
    h.start();
    await h.settle();
    h.shell().emit('\x1b[?25l\x1b[?1000h\x1b[?1h');
    h.input.write('\x1dc');
    await h.settle();
    expect(h.shells).toHaveLength(2);
    h.shell(1).exit(3);
    await h.settle();
    expect(h.shells[0]?.written).toBe('');
    h.shell(0).exit(5);
    const result = await h.result;
    await h.settle();
    expect(result).toEqual({ exitCode: 5, reason: 'shell-exited' });
    expect(h.outer.buffer.active.type).toBe('normal');
    expect(isCursorHidden(h.outer)).toBe(false);
    expect(h.outer.modes.mouseTrackingMode).toBe('none');
    expect(h.outer.modes.applicationCursorKeysMode).toBe(false);
    expect(h.outer.modes.bracketedPasteMode).toBe(false);
  });

  it('rejects an invalid prefix key with the terminal untouched', async () => {
    h = new Harness();
    h.start({ prefixKey: 'x' });
    await expect(h.result).rejects.toThrow(/not a control key/);
    expect(h.out).toBe('');
    h.result = Promise.resolve({ exitCode: 0, reason: 'quit' });
  });

  it('prefix-q: a process count that fails is "unknown", never 0: the user is asked, and n keeps the VM', async () => {
    h = new Harness(150, 8);
    let asked = 0;
    h.start({}, 'connected', {
      runningProcessCount: () => {
        asked++;
        return Promise.reject(new Error('ps in the guest exited with status 127'));
      },
    });
    await h.settle();
    h.input.write('\x1dq');
    await h.settle();
    expect(asked).toBe(1);
    expect(h.row(7)).toContain('could not check for running programs — quit and destroy the VM? (y/n)');
    expect(h.row(7)).toContain('status 127');
    h.input.write('n');
    await h.settle();
    expect(h.row(7)).not.toContain('could not check');
    const ended = await Promise.race([h.result, new Promise((r) => setTimeout(() => r('still running'), 100))]);
    expect(ended).toBe('still running');
    h.input.write('\x1dq');
    await h.settle();
    h.input.write('y');
    expect(await h.result).toMatchObject({ reason: 'quit', exitCode: 0 });
  });

  it('prefix-q: a count that never comes (a wedged guest) is asked about after the timeout, not waited on forever', async () => {
    const { quitCheck, quitQuestion } = await import('../../src/host/tui/quit-check.js');
    const never = { runningProcessCount: () => new Promise<number>(() => undefined) };
    const t0 = Date.now();
    const verdict = await quitCheck(never, 200);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(verdict).toEqual({ unknown: 'no answer within 0.2 s' });
    expect(quitQuestion(verdict)).toMatch(/^could not check for running programs — quit and destroy the VM\? \(y\/n\)/);
    expect(await quitCheck({ runningProcessCount: () => Promise.resolve(Number.NaN) })).toEqual({
      unknown: 'not a count: NaN',
    });
    expect(await quitCheck({ runningProcessCount: () => Promise.resolve(0) })).toBe(0);
    expect(await quitCheck({ runningProcessCount: () => Promise.resolve(2) })).toBe(2);
    h = new Harness();
    h.start();
  });

  it('input at its end (stdin from /dev/null) detaches from a VM that keeps running, once its shell is quiet', async () => {
    h = new Harness();
    h.start({}, 'connected', { detachable: true });
    await h.settle();
    h.input.write('make\r');
    h.input.end();
    const t0 = Date.now();
    // The shell answers what was piped in for a while: no detach while it does.
    for (let i = 0; i < 6; i++) {
      await h.settle(400);
      h.shell().emit(`output line ${i}\r\n`);
    }
    expect(await Promise.race([h.result, Promise.resolve('running')])).toBe('running');
    expect(await h.result).toEqual({ exitCode: 0, reason: 'detached', inputEnded: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_400 + 2_000 - 100);
    expect(h.shell().written).toBe('make\r');
    h = new Harness();
    h.start();
  });
});
