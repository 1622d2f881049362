/**
 * Reads the review scan's stdout (guest-scan.ts) as hostile input. The framing:
 *
 *   u64 BE  L, then L bytes: the listing (JSON, parsed by listing.ts)
 *   then per file: u32 BE N (1..MAX_NAME_BYTES), N bytes of its path (UTF-8), u64 BE size, size bytes
 *   u32 BE 0: the end; nothing may follow it.
 *
 * Once the listing is in, `onListing` says which files the host expects and where each goes (a path in
 * the staging dir that staging.ts built from accepted names, or undefined to check and drop). Every file
 * in the stream must be one of them, sent once, with the size the listing gave, and hash to the listing's
 * sha256; each is written through TempFile (O_EXCL, O_NOFOLLOW, renamed into place) and only after its
 * hash checked. Anything else (an unknown or repeated name, a wrong size, bad bytes, a missing file, a
 * stream cut short or running on) throws ReviewFailedError: the caller drops the whole staging dir.
 */
import { createHash, type Hash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { shownGuestName } from '../transfer/guest-names.js';
import { TempFile } from '../transfer/local-write.js';
import type { TreeEntry } from './entry.js';
import { ReviewFailedError } from './errors.js';

/** The guest's listing is JSON of about 150 bytes an entry: a million entries fit. */
export const LISTING_MAX_BYTES = 256 * 1024 * 1024;
/** A path of the workspace: at most 4095 bytes (PATH_MAX less the NUL). */
const MAX_NAME_BYTES = 4095;

export interface ExpectedFile {
  entry: TreeEntry;
  /** Where its bytes go; undefined: checked, then dropped (a change already refused on the host side). */
  dest: string | undefined;
}

type State =
  | { at: 'listing-length' }
  | { at: 'listing'; length: number }
  | { at: 'name-length' }
  | { at: 'name'; length: number }
  | { at: 'size'; name: string }
  | { at: 'body'; file: ExpectedFile; left: number; hash: Hash; tmp: TempFile | undefined }
  | { at: 'end' };

const lie = (what: string): ReviewFailedError =>
  new ReviewFailedError(`the guest's stream of the changed files ${what} (the guest is broken or hostile)`);

export class GuestStreamReader {
  private state: State = { at: 'listing-length' };
  /** Bytes of a header field or of the listing not yet complete. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private expected = new Map<string, ExpectedFile>();
  private seen = new Set<string>();

  constructor(private readonly onListing: (text: string) => Map<string, ExpectedFile>) {}

  /** Takes the next bytes of the stream; throws ReviewFailedError on the first lie. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const s = this.state;
      if (s.at === 'end') throw lie('goes on after its end mark');
      if (s.at === 'body') {
        const n = Math.min(s.left, chunk.length - at);
        const part = chunk.subarray(at, at + n);
        s.hash.update(part);
        if (s.tmp) for (let off = 0; off < part.length;) off += writeSync(s.tmp.fd, part, off);
        s.left -= n;
        at += n;
        if (s.left === 0) this.finishFile(s.file, s.hash, s.tmp);
        continue;
      }
      const want = this.fieldLength(s);
      const n = Math.min(want - this.pendingBytes, chunk.length - at);
      this.pending.push(chunk.subarray(at, at + n));
      this.pendingBytes += n;
      at += n;
      if (this.pendingBytes === want) {
        const field = Buffer.concat(this.pending);
        this.pending = [];
        this.pendingBytes = 0;
        this.take(field);
      }
    }
  }

  /** The stream has ended: it must have ended at its end mark. */
  end(): void {
    if (this.state.at === 'end') return;
    this.discard();
    throw lie(`ended early (${this.state.at === 'body' ? 'in the middle of a file' : 'without its end mark'})`);
  }

  /** Removes a temp file still being written (after a lie, or when the stream is abandoned). */
  discard(): void {
    if (this.state.at === 'body') this.state.tmp?.discard();
  }

  private fieldLength(s: State): number {
    switch (s.at) {
      case 'listing-length':
      case 'size':
        return 8;
      case 'name-length':
        return 4;
      case 'listing':
      case 'name':
        return s.length;
      default:
        throw new Error('internal: no field here');
    }
  }

  private take(field: Buffer): void {
    const s = this.state;
    switch (s.at) {
      case 'listing-length': {
        const length = field.readBigUInt64BE();
        if (length > BigInt(LISTING_MAX_BYTES))
          throw lie(`announces a listing of ${length} bytes, more than the ${LISTING_MAX_BYTES} taken`);
        // An empty listing is not JSON: listing.ts says so.
        this.state = length === 0n ? this.gotListing('') : { at: 'listing', length: Number(length) };
        return;
      }
      case 'listing':
        this.state = this.gotListing(field.toString('utf8'));
        return;
      case 'name-length': {
        const length = field.readUInt32BE();
        if (length === 0) {
          const missing = [...this.expected.keys()].filter((p) => !this.seen.has(p));
          if (missing.length)
            throw lie(
              `ended without ${missing.length} changed file${missing.length === 1 ? '' : 's'} its listing announced, e.g. "${shownGuestName(missing[0] as string)}"`,
            );
          this.state = { at: 'end' };
        } else if (length > MAX_NAME_BYTES) throw lie(`names a file with a path of ${length} bytes`);
        else this.state = { at: 'name', length };
        return;
      }
      case 'name': {
        const name = field.toString('utf8');
        const shown = `"${shownGuestName(name)}"`;
        // Compared as bytes too: invalid UTF-8 decodes to U+FFFD and could equal an announced name.
        if (!this.expected.has(name) || !Buffer.from(name).equals(field))
          throw lie(`sends ${shown}, which is not a changed file its listing announced`);
        if (this.seen.has(name)) throw lie(`sends ${shown} twice`);
        this.seen.add(name);
        this.state = { at: 'size', name };
        return;
      }
      case 'size': {
        const file = this.expected.get(s.name) as ExpectedFile;
        const size = field.readBigUInt64BE();
        if (size !== BigInt(file.entry.size))
          throw lie(`sends ${size} bytes for "${shownGuestName(s.name)}", whose listed size is ${file.entry.size}`);
        const hash = createHash('sha256');
        const tmp = file.dest === undefined ? undefined : new TempFile(file.dest);
        this.state = { at: 'body', file, left: file.entry.size, hash, tmp };
        if (file.entry.size === 0) this.finishFile(file, hash, tmp);
        return;
      }
      default:
        throw new Error('internal: no field here');
    }
  }

  private gotListing(text: string): State {
    this.expected = this.onListing(text);
    return { at: 'name-length' };
  }

  private finishFile(file: ExpectedFile, hash: Hash, tmp: TempFile | undefined): void {
    try {
      if (hash.digest('hex') !== file.entry.sha256)
        throw lie(`sends bytes for "${shownGuestName(file.entry.path)}" that are not the ones its listing hashed`);
      const now = Date.now() / 1000;
      tmp?.commit(file.entry.mode, now, now);
    } finally {
      tmp?.discard();
    }
    this.state = { at: 'name-length' };
  }
}
