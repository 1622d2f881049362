/** Shows image build progress: one rewritten line on a terminal, one line per step otherwise; none with --quiet. */
import type { BuildProgress } from '../image/build.js';
import { isQuiet } from './output.js';

export function buildProgressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: BuildProgress) => void {
  if (isQuiet()) return () => {};
  let lastStep = 0;
  const started = Date.now();
  return (p) => {
    const secs = ((Date.now() - started) / 1000).toFixed(0).padStart(3);
    const bytes = p.bytes !== undefined ? ` ${(p.bytes / 1e6).toFixed(1)} MB` : '';
    const head = `building guest image [${p.step}/${p.steps}] ${secs}s ${p.title}${bytes}`;
    if (stream.isTTY) {
      const detail = p.detail ? `: ${p.detail}` : '';
      const line = `${head}${detail}`.slice(0, Math.max(20, (stream.columns || 80) - 1));
      stream.write(`\r\x1b[2K${line}`);
      if (p.step === p.steps && p.detail === 'done') stream.write('\n');
    } else if (p.step !== lastStep || p.bytes !== undefined) {
      stream.write(`virtualghost: ${head}\n`);
    }
    lastStep = p.step;
  };
}
