/**
 * A review session's life: `copyIn` before the user's shell or command starts (a tar stream over an
 * exec channel into a fresh GUEST_DIR; DIR itself is only read), `collect` when it has ended while the VM
 * still runs (the guest lists the tree and streams the listing and the changed files back on one exec),
 * and `conclude` once the VM is gone (show, then apply, write a patch, or discard). Only the agent's SSH
 * exec is used, so it works alike on QEMU and Firecracker, cold or warm.
 */
import { writeSync } from 'node:fs';
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { escapeControl } from '../../shared/escape-control.js';
import { shellQuote } from '../shell-quote.js';
import { currentUmask, TempFile } from '../transfer/local-write.js';
import { applyChanges } from './apply.js';
import { computeChanges, isDirBookkeeping, type Change } from './changes.js';
import { askReview, type Terminal } from './choose.js';
import { ReviewFailedError } from './errors.js';
import { gitPatch } from './git-diff.js';
import { COPY_IN_MARK, scanBaseline, scanSource } from './guest-scan.js';
import { GuestStreamReader } from './guest-stream.js';
import { parseGuestListing } from './listing.js';
import { snapshotHostDir, type HostSnapshot } from './snapshot.js';
import type { ReviewSpec } from './spec.js';
import { runScan } from './scan-channel.js';
import { stageChanges, type Staging } from './staging.js';
import { countsLine, summaryLines } from './screen.js';
import { tarStream } from './tar-stream.js';

const GUEST_NODE = '/usr/local/bin/node';

export interface Collected {
  changes: Change[];
  staging: Staging;
  /** Notices about the guest's listing: refused entries (the review then fails) and bits never applied. */
  refused: string[];
  notApplied: string[];
}

function execWithInput(
  ssh: ssh2.Client,
  command: string,
  input: Iterable<Buffer> | string,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    ssh.exec(command, (err, ch: ClientChannel) => {
      if (err) return reject(err);
      let code = 255;
      let stderr = '';
      ch.on('exit', (c: number | null) => (code = c ?? 255));
      ch.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      ch.on('data', () => undefined);
      ch.on('close', () => resolve({ code, stderr }));
      if (typeof input === 'string') ch.end(input);
      else {
        const it = input[Symbol.iterator]();
        const pump = (): void => {
          for (;;) {
            const next = it.next();
            if (next.done) return void ch.end();
            if (!ch.write(next.value)) return void ch.once('drain', pump);
          }
        };
        try {
          pump();
        } catch (e) {
          ch.close();
          reject(e as Error);
        }
      }
    });
  });
}

export class Workspace {
  private snapshot: HostSnapshot | undefined;

  constructor(
    readonly spec: ReviewSpec,
    private readonly onNotice: (line: string) => void,
  ) {}

  async copyIn(ssh: ssh2.Client): Promise<void> {
    const snap = snapshotHostDir(this.spec.hostDir);
    for (const s of snap.skipped)
      this.onNotice(`--review: not copied into the VM (not a file, directory or link): ${s}`);
    const d = shellQuote([this.spec.guestDir]);
    const script = `set -e; if [ -e ${d} ] && [ -n "$(ls -A ${d})" ]; then echo "${this.spec.guestDir.replace(/["$`\\]/g, '')} already has files in the image; choose another guest directory" >&2; exit 3; fi; mkdir -p ${d}; cd ${d}; tar -x -p -f -; touch ${COPY_IN_MARK} 2>/dev/null || true`;
    const r = await execWithInput(ssh, script, tarStream(snap));
    if (r.code !== 0)
      throw new ReviewFailedError(
        `could not copy ${escapeControl(this.spec.hostDir)} into the VM: ${escapeControl(r.stderr.trim()) || `exit ${r.code}`}`,
      );
    this.snapshot = snap;
  }

  /** While the VM still runs: the guest's listing, the change set, and its staged bytes (one stream). */
  async collect(ssh: ssh2.Client): Promise<Collected> {
    const snap = this.snapshot;
    if (!snap) throw new Error('internal: collect before copyIn');
    let got: Omit<Collected, 'staging'> | undefined;
    let staging: Staging | undefined;
    const reader = new GuestStreamReader((text) => {
      const listing = parseGuestListing(text);
      const changes = computeChanges(snap.tree, listing.tree);
      const staged = stageChanges(changes, this.spec.hostDir);
      staging = staged.staging;
      got = { changes, refused: listing.refused, notApplied: listing.notApplied };
      return staged.guestFiles;
    });
    try {
      // No abort signal here: Ctrl-C ends the session (and with it the SSH connection) instead.
      await runScan(
        ssh,
        shellQuote([GUEST_NODE, '-', this.spec.guestDir]),
        scanSource(scanBaseline(snap.tree)),
        reader,
        this.spec.guestDir,
      );
    } catch (err) {
      // Nothing of a stream that lied stays staged.
      (staging as Staging | undefined)?.remove();
      throw err;
    }
    if (!got || !staging) throw new Error('internal: the scan ended without a listing');
    return { ...got, staging };
  }

  /**
   * After the VM is gone: the answer (`--on-exit`, or asked on `term`), carried out. Returns normally when
   * it did all that was asked; throws ReviewFailedError (naming `status`, the command's own) otherwise.
   */
  async conclude(got: Collected, status: number, term: Terminal | undefined): Promise<void> {
    const { changes, staging } = got;
    const dir = escapeControl(this.spec.hostDir);
    const problems: string[] = [...got.refused];
    try {
      for (const line of got.notApplied) this.onNotice(`--review: not applied: ${line}`);
      if (this.spec.readOnly) return;
      if (changes.length === 0) {
        this.onNotice(`--review: no changes in ${dir}`);
        if (problems.length) throw this.failed(problems, status);
        return;
      }
      let onExit = this.spec.onExit;
      if (onExit.kind === 'ask' && !term) {
        this.onNotice(
          `--review: the VM changed ${dir} (${countsLine(changes)}); discarded, as there is no terminal to ask on. Choose beforehand with --on-exit apply, --on-exit patch:FILE or --on-exit discard`,
        );
        onExit = { kind: 'discard' };
      }
      if (onExit.kind === 'discard') {
        if (this.spec.onExit.kind === 'discard')
          this.onNotice(`--review: discarded the changes to ${dir} (${countsLine(changes)})`);
        return;
      }
      if (onExit.kind === 'patch') {
        this.writePatch(got, onExit.file, problems);
      } else {
        const chosen =
          onExit.kind === 'apply' ? changes : await askReview(changes, staging, this.spec.hostDir, term as Terminal);
        if (onExit.kind === 'apply')
          for (const l of summaryLines(changes, { colour: false })) this.onNotice(l.trimStart());
        if (chosen.length === 0) {
          this.onNotice(`--review: discarded the changes to ${dir}`);
          return;
        }
        const r = applyChanges(this.spec.hostDir, staging, chosen);
        problems.push(...r.problems);
        const files = r.applied.filter((c) => !isDirBookkeeping(c)).length;
        this.onNotice(`--review: applied ${files} change${files === 1 ? '' : 's'} to ${dir}`);
      }
      if (problems.length) throw this.failed(problems, status);
    } finally {
      staging.remove();
    }
  }

  private writePatch(got: Collected, file: string, problems: string[]): void {
    for (const [, why] of got.staging.refused) problems.push(`not in the patch: ${why}`);
    const patch = gitPatch(got.staging);
    const tmp = new TempFile(file);
    try {
      for (let off = 0; off < patch.length;) off += writeSync(tmp.fd, patch, off);
      const now = Date.now() / 1000;
      tmp.commit(0o666 & ~currentUmask(), now, now);
    } finally {
      tmp.discard();
    }
    const emptyDirs = got.changes.filter(
      (c) =>
        c.kind === 'added' &&
        c.new?.type === 'dir' &&
        !got.changes.some((o) => o !== c && o.path.startsWith(`${c.path}/`)),
    );
    for (const c of emptyDirs)
      this.onNotice(
        `--review: not in the patch: empty directory ${escapeControl(c.path)} (git patches carry files only)`,
      );
    this.onNotice(
      `--review: wrote the changes to ${escapeControl(this.spec.hostDir)} as a patch to ${escapeControl(file)} (apply it there with git apply; binary files are in it as GIT binary patch)`,
    );
  }

  private failed(problems: string[], status: number): ReviewFailedError {
    for (const p of problems) this.onNotice(`--review: ${p}`);
    return new ReviewFailedError(
      `the review of ${escapeControl(this.spec.hostDir)} did not complete: ${problems.length} entr${problems.length === 1 ? 'y' : 'ies'} not applied or refused (named above); the command itself exited ${status}`,
    );
  }
}
