/** Shows image build progress: one rewritten line on a terminal, one line per step otherwise; none with --quiet. */
import type { BuildProgress } from '../image/build.js';
import type { PullProgress } from '../image/registry/pull.js';
import { escapeControl } from '../../shared/escape-control.js';
import { isQuiet } from './output.js';

const BAR_WIDTH = 20;

function progressBar(fraction: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * BAR_WIDTH);
  return `[${'#'.repeat(full)}${'.'.repeat(BAR_WIDTH - full)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}

export function buildProgressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: BuildProgress) => void {
  if (isQuiet()) return () => {};
  let lastStep = 0;
  let lastFraction = 0;
  // Without a terminal a bar is a line per update: show a quarter's progress at most.
  const crossedQuarter = (p: BuildProgress): boolean =>
    p.fraction !== undefined && Math.floor(p.fraction * 4) > Math.floor(lastFraction * 4);
  const started = Date.now();
  return (p) => {
    const secs = ((Date.now() - started) / 1000).toFixed(0).padStart(3);
    const bytes = p.bytes !== undefined ? ` ${(p.bytes / 1e6).toFixed(1)} MB` : '';
    const verb = p.action === 'extract' ? 'unpacking' : 'building';
    const bar = p.fraction !== undefined ? ` ${progressBar(p.fraction)}` : '';
    const head = `${verb} guest image [${p.step}/${p.steps}] ${secs}s ${p.title}${bar}${bytes}`;
    if (stream.isTTY) {
      const detail = p.detail ? `: ${p.detail}` : '';
      const line = `${head}${detail}`.slice(0, Math.max(20, (stream.columns || 80) - 1));
      stream.write(`\r\x1b[2K${line}`);
      if (p.step === p.steps && p.detail === 'done') stream.write('\n');
    } else if (p.step !== lastStep || p.bytes !== undefined || crossedQuarter(p)) {
      stream.write(`virtualghost: ${head}\n`);
    }
    lastStep = p.step;
    lastFraction = p.fraction ?? 0;
  };
}

/** Shows a registry pull in bytes: a rewritten bar on a terminal, a line every 10% otherwise; none with --quiet. */
export function pullProgressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: PullProgress) => void {
  if (isQuiet()) return () => {};
  let lastTenth = -1;
  let lastDraw = 0;
  return (p) => {
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    const fraction = p.totalBytes > 0 ? Math.min(1, p.doneBytes / p.totalBytes) : 0;
    const what = escapeControl(p.reference);
    if (stream.isTTY) {
      const now = Date.now();
      if (p.phase === 'blobs' && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 20;
      const filled = Math.round(fraction * width);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
      const head = p.phase === 'manifest' ? 'resolving' : `${bar} ${mb(p.doneBytes)}/${mb(p.totalBytes)} MB`;
      const line = `pulling ${what} ${head}`.slice(0, Math.max(20, (stream.columns || 80) - 1));
      stream.write(`\r\x1b[2K${line}`);
      if (p.phase === 'done') stream.write('\n');
      return;
    }
    const tenth = p.phase === 'done' ? 10 : Math.floor(fraction * 10);
    if (p.phase !== 'manifest' && tenth === lastTenth) return;
    lastTenth = tenth;
    if (p.phase === 'manifest') stream.write(`virtualghost: pulling ${what}\n`);
    else stream.write(`virtualghost: pulling ${what} ${mb(p.doneBytes)}/${mb(p.totalBytes)} MB\n`);
  };
}
