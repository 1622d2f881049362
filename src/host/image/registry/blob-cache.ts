/**
 * The layer cache, shared by every image pulled: `<cache>/registry/blobs/<alg>/<hex>`, one file per
 * digest, only ever put there whole and verified (size and digest) by a rename. A download in progress
 * is `<cache>/registry/partial/<alg>-<hex>` (claimed by one pull at a time: partial-claim.ts); when the
 * connection drops it is resumed with a Range request (in the same pull, and by the next pull if this one
 * was interrupted).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, lstatSync, renameSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { ensurePrivateDir } from '../../store/private-dir.js';
import type { RegistryClient } from './client.js';
import { drain } from './http-body.js';
import { RegistryDigestMismatchError, RegistryProtocolError, RegistryUnreachableError } from './errors.js';
import type { Descriptor } from './manifest.js';
import { claimPartial } from './partial-claim.js';

/** Attempts at one blob when its connection keeps dropping (each resumes where the last one stopped). */
const ATTEMPTS = 5;

export interface RegistryDirs {
  root: string;
  blobs: string;
  partial: string;
  layouts: string;
}

export function registryDirs(cacheDir: string): RegistryDirs {
  const root = join(cacheDir, 'registry');
  return { root, blobs: join(root, 'blobs'), partial: join(root, 'partial'), layouts: join(root, 'layouts') };
}

/** Creates the registry dirs 0700 (and refuses ones that are not ours: see private-dir.ts). */
export function ensureRegistryDirs(dirs: RegistryDirs): void {
  for (const d of [
    dirs.root,
    dirs.blobs,
    join(dirs.blobs, 'sha256'),
    join(dirs.blobs, 'sha512'),
    dirs.partial,
    dirs.layouts,
  ])
    ensurePrivateDir(d);
}

/** Where the verified blob `digest` lives in the cache (digests are checked by manifest.ts first). */
export function blobPath(dirs: RegistryDirs, digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return join(dirs.blobs, alg, hex);
}

function sizeOf(path: string): number | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st?.isFile() ? st.size : undefined;
}

/** The cached blob's path, downloading it first if it is not there; `onBytes` hears each chunk's length. */
export async function fetchBlob(
  client: RegistryClient,
  dirs: RegistryDirs,
  desc: Descriptor,
  onBytes: (n: number) => void,
): Promise<string> {
  const final = blobPath(dirs, desc.digest);
  if (sizeOf(final) === desc.size) {
    onBytes(desc.size);
    return final;
  }
  const [alg, hex] = desc.digest.split(':') as [string, string];
  const claim = claimPartial(dirs.partial, `${alg}-${hex}`);
  try {
    await download(client, desc, claim.path, onBytes);
  } catch (err) {
    if (err instanceof RegistryDigestMismatchError) claim.discard();
    else claim.release();
    throw err;
  }
  renameSync(claim.path, final);
  return final;
}

/** Fills `partial` with the blob (resuming what it holds) and verifies it; throws if it cannot. */
async function download(
  client: RegistryClient,
  desc: Descriptor,
  partial: string,
  onBytes: (n: number) => void,
): Promise<void> {
  let lastError: unknown;
  // Progress counts what is in the file: bytes received but lost with a dropped connection are taken back.
  let counted = 0;
  const count = (n: number): void => {
    counted += n;
    onBytes(n);
  };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let have = sizeOf(partial) ?? 0;
    if (have > desc.size) {
      truncateSync(partial, 0);
      have = 0;
    }
    count(have - counted);
    let streamed: string | undefined;
    if (have < desc.size) {
      try {
        streamed = await downloadFrom(client, desc, partial, have, count);
      } catch (err) {
        if (!(err instanceof RegistryUnreachableError)) throw err;
        lastError = err;
        continue;
      }
    }
    await verify(client, desc, partial, streamed);
    return;
  }
  throw lastError;
}

/**
 * Appends the blob's bytes from `offset` on to `partial` (a Range request when there is something).
 * Returns the digest of what was written when the file was written whole by this one response (so it
 * need not be read again), undefined when it was resumed.
 */
async function downloadFrom(
  client: RegistryClient,
  desc: Descriptor,
  partial: string,
  offset: number,
  onBytes: (n: number) => void,
): Promise<string | undefined> {
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  const res = await client.get(`blobs/${desc.digest}`, headers, `blob ${desc.digest}`);
  let start = 0;
  if (res.status === 206) {
    const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    start = Number(m?.[1] ?? -1);
    if (start !== offset) {
      await drain(res);
      throw new RegistryProtocolError(
        `registry ${client.ref.registry} answered a Range request for blob ${desc.digest} of ${client.name} with the wrong range`,
      );
    }
  } else if (offset > 0) {
    // The registry (or the storage it redirects to) ignores Range: start over.
    onBytes(-offset);
  }
  if (!res.body)
    throw new RegistryProtocolError(`registry ${client.ref.registry} sent blob ${desc.digest} with no body`);
  let received = start;
  const algorithm = desc.digest.split(':')[0] ?? 'sha256';
  const hash = start === 0 ? createHash(algorithm) : undefined;
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    hash?.update(chunk);
    received += chunk.length;
    if (received > desc.size)
      body.destroy(
        new RegistryDigestMismatchError(
          `registry ${client.ref.registry} sent more than the ${desc.size} bytes of blob ${desc.digest} for ${client.name}: it is corrupted or was tampered with; nothing was stored`,
        ),
      );
    else onBytes(chunk.length);
  });
  const out = createWriteStream(partial, { flags: start > 0 ? 'a' : 'w', mode: 0o600 });
  try {
    await pipeline(body, out);
  } catch (err) {
    // A write still in flight would land after the next attempt has measured the file (and append twice).
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    if (err instanceof RegistryDigestMismatchError || client.aborted) throw err;
    // A dropped connection: what arrived stays in `partial` for the next attempt to resume from.
    throw client.unreachable(new URL(`blobs/${desc.digest}`, client.base), err);
  }
  return hash ? `${algorithm}:${hash.digest('hex')}` : undefined;
}

/** Size and digest of the finished partial file (`streamed`: its digest, hashed as it was written). */
async function verify(client: RegistryClient, desc: Descriptor, partial: string, streamed?: string): Promise<void> {
  const size = sizeOf(partial) ?? 0;
  let got = streamed;
  if (got === undefined) {
    const algorithm = desc.digest.split(':')[0] ?? 'sha256';
    const hash = createHash(algorithm);
    for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer);
    got = `${algorithm}:${hash.digest('hex')}`;
  }
  if (size !== desc.size || got !== desc.digest) {
    throw new RegistryDigestMismatchError(
      `blob ${desc.digest} of ${client.name} from registry ${client.ref.registry} is corrupted: ${size !== desc.size ? `${size} bytes, not ${desc.size}` : `its content hashes to ${got}`}; it was discarded and nothing was stored`,
    );
  }
}
