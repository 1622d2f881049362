/**
 * Applies one OCI layer (a tar, maybe gzip or zstd) to a root filesystem directory on the host, as the
 * image spec's "Applying Changesets" says: entries in order, a later one replacing what is there (two
 * directories merge), `.wh.NAME` deleting NAME from the layers below, and `.wh..wh..opq` hiding every
 * child of its directory that lower layers made. Owners, modes, mtimes, hard links and symlinks are kept.
 *
 * The tar is read with node-tar's parser; every name is checked here (no absolute paths, no `..`) and
 * every parent directory is resolved by in-root.ts, so a symlink from an earlier entry or layer can never
 * take a write outside the rootfs, and nothing on the host is followed: files are created with O_EXCL |
 * O_NOFOLLOW after whatever stood there is removed. All file system calls are synchronous, inside the
 * parser's events, so entries are applied strictly in order.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import {
  chmodSync,
  closeSync,
  constants,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { ImageSourceError } from '../errors.js';
import { entryParts, resolveParent, UnsafePathError } from './in-root.js';
import { layerCompression } from './media-types.js';
import { zstdDecompressor } from './zstd.js';

export interface LayerBlob {
  digest: string;
  mediaType: string;
  path: string;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

export async function applyLayer(rootfs: string, layer: LayerBlob): Promise<void> {
  const compression = layerCompression(layer.mediaType, layer.digest);
  const written = new Set<string>();
  const parser = new Parser({ strict: true });
  let failure: unknown;
  parser.on('entry', (entry: ReadEntry) => {
    if (failure !== undefined) return void entry.resume();
    try {
      applyEntry(rootfs, entry, written);
    } catch (err) {
      failure =
        err instanceof UnsafePathError
          ? new ImageSourceError(
              `layer ${layer.digest}: entry ${JSON.stringify(entry.path)} ${err.message}; refusing to extract it`,
            )
          : new ImageSourceError(
              `layer ${layer.digest}: cannot extract ${JSON.stringify(entry.path)}: ${String(err)}`,
              {
                cause: err,
              },
            );
      entry.resume();
    }
  });
  try {
    const input = createReadStream(layer.path);
    if (compression === 'none') await pipeline(input, parser);
    else await pipeline(input, compression === 'gzip' ? createGunzip() : zstdDecompressor(), parser);
  } catch (err) {
    throw new ImageSourceError(`layer ${layer.digest} is not a readable ${compression} tar: ${String(err)}`, {
      cause: err,
    });
  }
  if (failure !== undefined) throw failure;
}

function applyEntry(rootfs: string, entry: ReadEntry, written: Set<string>): void {
  const parts = entryParts(entry.path);
  if (parts.length === 0) return void entry.resume(); // the layer's own "./": the root keeps its metadata
  const parent = resolveParent(rootfs, parts);
  const name = parts[parts.length - 1] as string;
  const parentDir = join(rootfs, ...parent);
  if (name === OPAQUE) {
    entry.resume();
    hideLower(rootfs, parent, written);
    return;
  }
  if (name.startsWith(WHITEOUT)) {
    entry.resume();
    const hidden = name.slice(WHITEOUT.length);
    if (hidden === '' || hidden === '.' || hidden === '..') throw new UnsafePathError('is a whiteout of no name');
    rmSync(join(parentDir, hidden), { recursive: true, force: true });
    return;
  }
  mkdirSync(parentDir, { recursive: true, mode: 0o755 });
  const rel = [...parent, name].join('/');
  const target = join(parentDir, name);
  const existing = lstatOrUndefined(target);
  const isDir = entry.type === 'Directory';
  if (existing && !(isDir && existing.isDirectory())) rmSync(target, { recursive: true, force: true });
  written.add(rel);
  switch (entry.type) {
    case 'Directory':
      if (!existing?.isDirectory()) mkdirSync(target, { mode: 0o700 });
      entry.resume();
      break;
    case 'File':
    case 'OldFile':
    case 'ContiguousFile': {
      const fd = openSync(
        target,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      entry.on('data', (chunk: Buffer) => {
        for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
      });
      entry.on('end', () => closeSync(fd));
      break;
    }
    case 'SymbolicLink':
      entry.resume();
      symlinkSync(entry.linkpath ?? '', target);
      break;
    case 'Link': {
      entry.resume();
      const linkParts = entryParts(entry.linkpath ?? '');
      const from = join(rootfs, ...resolveParent(rootfs, linkParts), linkParts[linkParts.length - 1] ?? '');
      const st = lstatOrUndefined(from);
      if (!st || st.isDirectory())
        throw new UnsafePathError(`is a hard link to ${JSON.stringify(entry.linkpath)}, which is not a file here`);
      linkSync(from, target);
      return; // a hard link shares its target's inode: owner and mode are the target's
    }
    case 'CharacterDevice':
    case 'BlockDevice':
    case 'FIFO': {
      entry.resume();
      const kind = entry.type === 'FIFO' ? 'p' : entry.type === 'BlockDevice' ? 'b' : 'c';
      const args =
        kind === 'p' ? [target, 'p'] : [target, kind, String(entry.header.devmaj), String(entry.header.devmin)];
      const r = spawnSync('mknod', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`mknod failed: ${r.stderr.toString().trim()}`);
      break;
    }
    default:
      entry.resume(); // pax and GNU long-name headers are folded in by the parser; nothing else belongs in a layer
      written.delete(rel);
      return;
  }
  const finish = (): void => setMetadata(target, entry);
  if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') entry.on('end', finish);
  else finish();
}

/** chown first: it clears setuid/setgid bits, so the mode is set after it. */
function setMetadata(target: string, entry: ReadEntry): void {
  lchownSync(target, entry.uid ?? 0, entry.gid ?? 0);
  const mtime = entry.mtime ?? new Date(0);
  if (entry.type === 'SymbolicLink') {
    lutimesSync(target, mtime, mtime);
    return;
  }
  chmodSync(target, (entry.mode ?? 0o644) & 0o7777);
  utimesSync(target, mtime, mtime);
}

/** The opaque whiteout: children of `dir` from lower layers go; what this layer put there stays. */
function hideLower(rootfs: string, dir: readonly string[], written: ReadonlySet<string>): void {
  const abs = join(rootfs, ...dir);
  if (!lstatOrUndefined(abs)?.isDirectory()) return;
  for (const child of readdirSync(abs)) {
    const rel = [...dir, child].join('/');
    if (!written.has(rel)) rmSync(join(abs, child), { recursive: true, force: true });
    else if (lstatSync(join(abs, child)).isDirectory()) hideLower(rootfs, [...dir, child], written);
  }
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
