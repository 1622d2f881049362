/** Shows image build progress: one rewritten line on a terminal, one line per step otherwise; none with --quiet. */
import type { BuildProgress } from '../image/build.js';
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
