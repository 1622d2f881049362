/** zstd layers (`…tar+zstd`): Node 20's zlib has no zstd, so fzstd (pure JS, streaming) decompresses them. */
import { Transform } from 'node:stream';
import { Decompress } from 'fzstd';

export function zstdDecompressor(): Transform {
  const z = new Decompress((chunk) => out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  const out: Transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        z.push(chunk);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done) {
      try {
        z.push(new Uint8Array(0), true);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
  return out;
}
