/** Reading registry answers: bodies we do not want are cancelled; the ones we keep are size-limited. */
import { RegistryProtocolError } from './errors.js';

export async function drain(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {});
}

/** The body, refused past `limit` bytes (a manifest or token answer is small; a hostile one may not be). */
export async function readLimited(res: Response, limit: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await drain(res);
    throw new RegistryProtocolError(`an answer of ${declared} bytes is larger than the ${limit} allowed`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body) {
    total += (chunk as Uint8Array).length;
    if (total > limit) {
      await drain(res);
      throw new RegistryProtocolError(`an answer is larger than the ${limit} bytes allowed`);
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}
