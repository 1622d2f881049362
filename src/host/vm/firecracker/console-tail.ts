/** Last lines of a log file, reading at most the final 64 KiB (console logs can grow large). */
import { open } from 'node:fs/promises';

export async function tailFile(path: string, lines: number, maxBytes = 64 * 1024): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const text = buf.toString('utf8').replace(/\r/g, '');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n');
  } finally {
    await fh.close();
  }
}
