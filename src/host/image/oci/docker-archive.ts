/**
 * `docker save` output as an OCI image layout: the archive's files are unpacked (regular files only,
 * each name checked; docker's symlinks between identical layers are resolved inside the archive), then
 * manifest.json's config and layers become blobs/sha256/… with an OCI manifest and index.json naming
 * them. The converter then reads it like any layout, so one code path applies layers.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { ImageSourceError } from '../errors.js';
import { entryParts, UnsafePathError } from './in-root.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST } from './media-types.js';

interface ArchiveFiles {
  /** Archive name → the file it was unpacked to. */
  files: Map<string, string>;
  links: Map<string, string>;
}

async function unpackArchive(archive: string, dir: string): Promise<ArchiveFiles> {
  const files = new Map<string, string>();
  const links = new Map<string, string>();
  const parser = new Parser({ strict: true });
  let failure: unknown;
  let n = 0;
  parser.on('entry', (entry: ReadEntry) => {
    try {
      if (failure !== undefined) return void entry.resume();
      const name = entryParts(entry.path).join('/');
      if (entry.type === 'SymbolicLink') {
        links.set(name, posix.normalize(posix.join(posix.dirname(name), entry.linkpath ?? '')));
        return void entry.resume();
      }
      if (entry.type !== 'File' && entry.type !== 'OldFile') return void entry.resume();
      const out = join(dir, `f${n++}`);
      const fd = openSync(out, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      files.set(name, out);
      entry.on('data', (chunk: Buffer) => {
        for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
      });
      entry.on('end', () => closeSync(fd));
    } catch (err) {
      failure =
        err instanceof UnsafePathError
          ? new ImageSourceError(`${archive}: entry ${JSON.stringify(entry.path)} ${err.message}`)
          : err;
      entry.resume();
    }
  });
  try {
    await pipeline(createReadStream(archive), parser);
  } catch (err) {
    throw new ImageSourceError(`${archive} is not a tar archive (docker save output): ${String(err)}`, { cause: err });
  }
  if (failure !== undefined) throw failure;
  return { files, links };
}

function lookup(a: ArchiveFiles, name: string, archive: string): string {
  let n = posix.normalize(name);
  for (let hops = 0; hops < 8 && !a.files.has(n) && a.links.has(n); hops++) n = a.links.get(n) as string;
  const f = a.files.get(n);
  if (f === undefined)
    throw new ImageSourceError(
      `${archive}: manifest.json names ${JSON.stringify(name)}, which the archive does not have`,
    );
  return f;
}

function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  return new Promise((resolve, reject) => {
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(`sha256:${h.digest('hex')}`));
  });
}

/** Turns `archive` into an OCI layout at `layoutDir` (an empty private dir); returns nothing on success. */
export async function dockerArchiveToLayout(archive: string, layoutDir: string): Promise<void> {
  const raw = join(layoutDir, 'unpacked');
  const blobs = join(layoutDir, 'blobs', 'sha256');
  mkdirSync(raw, { recursive: true });
  mkdirSync(blobs, { recursive: true });
  const a = await unpackArchive(archive, raw);
  const manifestFile = a.files.get('manifest.json');
  if (manifestFile === undefined)
    throw new ImageSourceError(`${archive} is not a docker save archive: it has no manifest.json`);
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch {
    throw new ImageSourceError(`${archive}: manifest.json is not valid JSON`);
  }
  const list = Array.isArray(entries) ? (entries as Array<{ Config?: unknown; Layers?: unknown }>) : [];
  if (list.length !== 1)
    throw new ImageSourceError(
      `${archive}: manifest.json should describe exactly one image; it describes ${list.length}`,
    );
  const image = list[0] as { Config?: unknown; Layers?: unknown };
  if (
    typeof image.Config !== 'string' ||
    !Array.isArray(image.Layers) ||
    !image.Layers.every((l) => typeof l === 'string')
  )
    throw new ImageSourceError(`${archive}: manifest.json has no Config and Layers for its image`);
  const toBlob = async (
    name: string,
    mediaType: string,
  ): Promise<{ mediaType: string; digest: string; size: number }> => {
    const file = lookup(a, name, archive);
    const digest = await sha256Of(file);
    const size = statSync(file).size;
    const dest = join(blobs, digest.slice('sha256:'.length));
    renameSync(file, dest);
    a.files.set(posix.normalize(name), dest); // docker may name the same layer twice
    return { mediaType, digest, size };
  };
  const config = await toBlob(image.Config, OCI_CONFIG);
  const layers = [];
  for (const l of image.Layers as string[]) layers.push(await toBlob(l, layerType(a, l)));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  writeFileSync(join(blobs, digest.slice('sha256:'.length)), manifest);
  writeFileSync(join(layoutDir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(layoutDir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest, size: manifest.length }],
    }),
  );
}

/** docker save writes plain tars; newer dockers (an OCI layout inside) may write gzip ones: look at the bytes. */
function layerType(a: ArchiveFiles, name: string): string {
  const fd = openSync(lookup(a, name, 'archive'), 'r');
  const head = Buffer.alloc(4);
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return `${OCI_LAYER}+gzip`;
  if (head.readUInt32LE(0) === 0xfd2fb528) return `${OCI_LAYER}+zstd`;
  return OCI_LAYER;
}
