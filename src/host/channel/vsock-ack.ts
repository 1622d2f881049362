/**
 * Reads Firecracker's answer to `CONNECT <port>\n`: one `OK <hostport>\n` line (see fc-vsock.ts). The
 * line may arrive split across reads and guest stream bytes may follow it in the same read; whatever
 * comes after the newline is handed back untouched. Never holds more than MAX_ACK_LINE_BYTES.
 */

/** "OK " + a u32 port + "\n" fits easily; anything longer without a newline is not Firecracker talking. */
export const MAX_ACK_LINE_BYTES = 32;

export type AckResult =
  | { kind: 'more' }
  | { kind: 'ok'; rest: Buffer }
  /** `shown`: the offending bytes, printable, for the error message. */
  | { kind: 'bad'; why: 'too-long' | 'not-ok'; shown: string };

export class AckReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** Bytes held while the line is incomplete (read-only: the fuzzer checks the bound). */
  get heldBytes(): number {
    return this.buffered.length;
  }

  push(chunk: Buffer): AckResult {
    const buffered = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    const nl = buffered.indexOf(0x0a);
    if (nl === -1) {
      if (buffered.length > MAX_ACK_LINE_BYTES) return { kind: 'bad', why: 'too-long', shown: printable(buffered) };
      this.buffered = Buffer.from(buffered);
      return { kind: 'more' };
    }
    this.buffered = Buffer.alloc(0);
    const line = buffered.subarray(0, nl).toString('latin1');
    if (nl > MAX_ACK_LINE_BYTES || !/^OK [0-9]{1,10}$/.test(line))
      return { kind: 'bad', why: 'not-ok', shown: printable(buffered.subarray(0, nl + 1)) };
    return { kind: 'ok', rest: buffered.subarray(nl + 1) };
  }
}

function printable(buf: Buffer): string {
  return JSON.stringify(buf.subarray(0, 64).toString('latin1')) + (buf.length > 64 ? '…' : '');
}
