/**
 * Log files (the guest's serial console above all) printed by `logs`: their text is the guest's, so
 * control characters go through escapeControl() and cannot drive the user's terminal. Line structure is
 * kept: newlines and tabs stay, and the serial console's CR LF line ends become plain newlines. Chunks may
 * split a UTF-8 character or a CR LF pair; both are carried over to the next chunk.
 */
import { StringDecoder } from 'node:string_decoder';
import { escapeControl } from '../../shared/escape-control.js';

export class LogTextEscaper {
  private readonly decoder = new StringDecoder('utf8');
  private heldCr = false;

  write(chunk: Buffer): string {
    return this.escape(this.decoder.write(chunk), false);
  }

  /** What is still held back (an incomplete character, a CR without its LF). */
  end(): string {
    return this.escape(this.decoder.end(), true);
  }

  private escape(text: string, last: boolean): string {
    if (this.heldCr) text = `\r${text}`;
    this.heldCr = !last && text.endsWith('\r');
    if (this.heldCr) text = text.slice(0, -1);
    const lines = text.split('\n');
    // A CR is dropped only where an LF follows it; the last piece has none (yet).
    return lines
      .map((line, i) =>
        (i < lines.length - 1 ? line.replace(/\r$/, '') : line).split('\t').map(escapeControl).join('\t'),
      )
      .join('\n');
  }
}
