/**
 * Finds the guest bridge's hello in the bytes a virtio-serial port delivers (see shared/ports.ts). What
 * comes before it belongs to an earlier connection and is dropped; only the tail that could still be
 * the start of a split hello is held, so a guest that never says hello cannot make us buffer more.
 */
export class HelloScanner {
  private seen: Buffer = Buffer.alloc(0);

  constructor(private readonly hello: Buffer) {}

  /** Bytes held back across reads (read-only: the fuzzer checks this never exceeds the hello's length). */
  get heldBytes(): number {
    return this.seen.length;
  }

  /** Feeds one read; once the hello is found, returns the bytes after it (which belong to the new stream). */
  push(chunk: Buffer): Buffer | undefined {
    const seen = this.seen.length > 0 ? Buffer.concat([this.seen, chunk]) : chunk;
    const at = seen.indexOf(this.hello);
    if (at >= 0) {
      this.seen = Buffer.alloc(0);
      return seen.subarray(at + this.hello.length);
    }
    this.seen = Buffer.from(seen.subarray(Math.max(0, seen.length - this.hello.length + 1)));
    return undefined;
  }
}
