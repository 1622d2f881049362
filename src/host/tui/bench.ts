/**
 * Renderer benchmarks, for `npm run bench` (the bench runner formats and records the results).
 *
 * (a) throughput: mixed text/SGR guest output through emulator + renderer into a sink that
 *     discards, frames paced like the app (one per `frameIntervalMs` of parse time);
 * (b) per-frame time for a full-screen change at 200×50, the cost behind every keystroke echo
 *     in a busy full-screen app; also with a screen full of emoji and ZWJ sequences, where the
 *     renderer positions absolutely after every cell (outer-width.ts).
 */
import { Frame, LinkTable } from './frame.js';
import { Renderer } from './render.js';
import { Screen } from './screen.js';

export interface ThroughputResult {
  megabytes: number;
  seconds: number;
  mbPerSec: number;
  frames: number;
  /** Bytes the renderer wrote to the (discarding) terminal. */
  outputBytes: number;
}

export interface FrameTimeResult {
  cols: number;
  rows: number;
  frames: number;
  /** Median bytes of ANSI per frame. */
  p50Bytes: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** Deterministic mixed output: plain lines, 16/256/truecolor SGR, some wide characters. */
export function mixedOutput(bytes: number, seed = 1): string {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const words = [
    'lorem',
    'ipsum',
    'dolor',
    'sit',
    'amet',
    'src/host/tui/render.ts',
    '12345',
    'ok',
    '日本語',
    'ERROR',
    '✔',
  ];
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    let line = '';
    const n = 4 + (next() % 12);
    for (let i = 0; i < n; i++) {
      const r = next() % 10;
      const w = words[next() % words.length] ?? 'x';
      if (r === 0) line += `\x1b[3${next() % 8}m${w}\x1b[0m `;
      else if (r === 1) line += `\x1b[38;5;${next() % 256}m${w}\x1b[39m `;
      else if (r === 2) line += `\x1b[1;38;2;${next() % 256};${next() % 256};${next() % 256}m${w}\x1b[0m `;
      else line += `${w} `;
    }
    line += '\r\n';
    parts.push(line);
    size += Buffer.byteLength(line);
  }
  return parts.join('');
}

function write(screen: Screen, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    screen.write(data, resolve);
  });
}

/**
 * Feed `megabytes` of mixed output in 64 KiB chunks (an SSH channel's window) and render a frame
 * whenever `frameIntervalMs` has passed, as the app's scheduler does under a flood.
 */
export async function benchThroughput(
  opts: { megabytes?: number; cols?: number; rows?: number; frameIntervalMs?: number } = {},
): Promise<ThroughputResult> {
  const megabytes = opts.megabytes ?? 100;
  const cols = opts.cols ?? 200;
  const rows = opts.rows ?? 50;
  const interval = opts.frameIntervalMs ?? 8;
  // Generate one 4 MiB block and repeat it: generation must not dominate the measurement.
  const block = Buffer.from(mixedOutput(4 << 20));
  const total = Math.round(megabytes * (1 << 20));
  const screen = new Screen(cols, rows, 1000);
  const links = new LinkTable();
  const renderer = new Renderer(links);
  const frame = new Frame(cols, rows);
  let outputBytes = 0;
  let frames = 0;
  const renderFrame = (): void => {
    screen.paint(frame, 0, links);
    outputBytes += renderer.render(frame).length;
    frames++;
  };
  const chunk = 64 << 10;
  const start = performance.now();
  let lastFrame = start;
  for (let sent = 0; sent < total; sent += chunk) {
    const offset = sent % block.length;
    const piece = block.subarray(offset, Math.min(offset + chunk, block.length, offset + total - sent));
    await write(screen, piece);
    const now = performance.now();
    if (now - lastFrame >= interval) {
      renderFrame();
      lastFrame = now;
    }
  }
  renderFrame();
  const seconds = (performance.now() - start) / 1000;
  screen.dispose();
  return { megabytes, seconds, mbPerSec: megabytes / seconds, frames, outputBytes };
}

/** Emoji from Unicode 6 to 15, and a ZWJ family (6 cells for the guest): each 2 cells wide. */
const EMOJI = ['😀', '🎉', '👍', '🥲', '🤌', '🫀', '🫠', '🛝', '🟰', '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}'];

function asciiPage(cols: number, rows: number, k: number): string {
  let page = '\x1b[H';
  for (let y = 0; y < rows; y++) {
    let line = `\x1b[${y + 1};1H`;
    for (let x = 0; x < cols; x++)
      line +=
        (x + y + k) % 17 === 0
          ? `\x1b[3${(x + k) % 8}m${String.fromCharCode(65 + ((x + k) % 26))}\x1b[0m`
          : String.fromCharCode(97 + ((x * 7 + y + k) % 26));
    page += line;
  }
  return page;
}

function emojiPage(cols: number, rows: number, k: number): string {
  let page = '\x1b[H';
  for (let y = 0; y < rows; y++) {
    let line = `\x1b[${y + 1};1H`;
    for (let x = 0; x + 2 <= cols;) {
      const e = EMOJI[(x * 3 + y + k) % EMOJI.length] ?? '😀';
      const w = e.includes('\u200d') ? 6 : 2;
      if (x + w > cols) break;
      line += e;
      x += w;
    }
    page += line;
  }
  return page;
}

/** Time paint + diff + ANSI for frames where every cell changes (worst case) at cols×rows. */
export async function benchFrameTime(
  opts: { cols?: number; rows?: number; frames?: number; content?: 'ascii' | 'emoji' } = {},
): Promise<FrameTimeResult> {
  const cols = opts.cols ?? 200;
  const rows = opts.rows ?? 50;
  const count = opts.frames ?? 300;
  const screen = new Screen(cols, rows, 0);
  const links = new LinkTable();
  const renderer = new Renderer(links);
  const frame = new Frame(cols, rows);
  // Two full screens that differ in every cell, alternated.
  const pages = [0, 1].map((k) => (opts.content === 'emoji' ? emojiPage(cols, rows, k) : asciiPage(cols, rows, k)));
  const times: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    await write(screen, pages[i % 2] ?? '');
    const t0 = performance.now();
    screen.paint(frame, 0, links);
    const bytes = renderer.render(frame).length;
    const t = performance.now() - t0;
    if (i >= 20) {
      // warm-up excluded
      times.push(t);
      sizes.push(bytes);
    }
  }
  screen.dispose();
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  sizes.sort((a, b) => a - b);
  return {
    cols,
    rows,
    frames: count,
    p50Bytes: sizes[Math.floor(sizes.length / 2)] ?? 0,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
  };
}
