/**
 * Builds the bytes a review scan writes on stdout (src/host/review/guest-stream.ts has the framing), so a
 * hostile guest in a test can send exactly these in place of the real scan: any listing, any files, sizes
 * that are not the data's, no end mark, bytes after it.
 */
import { createHash } from 'node:crypto';

export const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

export interface StreamedFile {
  name: string | Buffer;
  data: string | Buffer;
  /** The size the record claims; the data's own length unless given. */
  size?: number;
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

export function scanStream(
  listing: unknown,
  files: readonly StreamedFile[],
  opts: { end?: boolean; tail?: Buffer; listingLength?: bigint } = {},
): Buffer {
  const text = Buffer.from(typeof listing === 'string' ? listing : JSON.stringify(listing));
  const parts = [u64(opts.listingLength ?? text.length), text];
  for (const f of files) {
    const name = Buffer.from(f.name);
    const data = Buffer.from(f.data);
    parts.push(u32(name.length), name, u64(f.size ?? data.length), data);
  }
  if (opts.end ?? true) parts.push(u32(0));
  if (opts.tail) parts.push(opts.tail);
  return Buffer.concat(parts);
}

/** Shell lines for the guest: its Node becomes a script that writes /root/scan-stream.bin and nothing else. */
export const REPLACE_GUEST_NODE = [
  'mv /usr/local/bin/node /usr/local/bin/node.real',
  "printf '#!/bin/sh\\nexec cat /root/scan-stream.bin\\n' > /usr/local/bin/node",
  'chmod 755 /usr/local/bin/node',
];
