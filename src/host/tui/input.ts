/**
 * The input state machine: bytes from the user's terminal → guest bytes or TUI commands.
 *
 * States: normal (bytes pass to the guest), prefix (the next key is a command), paste (inside a
 * bracketed paste: everything, including the prefix byte, is pasted text), and modal (copy mode,
 * help, prompts: input is decoded into keys for the TUI). Input is handled as it arrives; nothing
 * here waits for rendering.
 *
 * We keep bracketed paste, SGR mouse and focus reporting enabled on the user's terminal as needed
 * and translate for the guest: paste markers only if the guest enabled 2004, mouse reports in the
 * guest's encoding with rows shifted past a top status line, focus only if the guest enabled 1004.
 */
import { decodeKeys, type Key } from './keys.js';
import { encodeForGuest, parseSgrMouse, type MouseTarget } from './mouse.js';

export type Command =
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'detach' }
  | { kind: 'new-tab' }
  | { kind: 'next-tab' }
  | { kind: 'prev-tab' }
  | { kind: 'select-tab'; index: number }
  | { kind: 'copy-mode'; pageUp: boolean }
  | { kind: 'redraw' }
  | { kind: 'clipboard-allow'; always: boolean };

export type InputEvent =
  { type: 'guest'; data: string | Uint8Array } | { type: 'command'; command: Command } | { type: 'keys'; keys: Key[] };

export interface GuestInputState {
  bracketedPaste: boolean;
  focus: boolean;
  mouse: MouseTarget;
}

/** The longest partial sequence the parser holds across reads; a longer one is not a real terminal's. */
export const MAX_HELD_INPUT = 64;

const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';
// Ten digits per number is far past any screen, and keeps a report (and what we hold of one) short.
// eslint-disable-next-line no-control-regex
const MOUSE = /\x1b\[<\d{1,10};\d{1,10};\d{1,10}[Mm]/y;
/** A proper prefix of a MOUSE report (ESC [ < onwards). */
// eslint-disable-next-line no-control-regex
const MOUSE_START = /^\x1b\[<(?:\d{1,10}(?:;(?:\d{1,10}(?:;\d{0,10})?)?)?)?$/;

/** The command bound to a key pressed after the prefix, if any. */
export function prefixCommand(key: Key): Command | undefined {
  switch (key) {
    case '?':
      return { kind: 'help' };
    case 'q':
      return { kind: 'quit' };
    case 'd':
      return { kind: 'detach' };
    case 'c':
      return { kind: 'new-tab' };
    case 'n':
    case 'Right':
      return { kind: 'next-tab' };
    case 'p':
    case 'Left':
      return { kind: 'prev-tab' };
    case '[':
      return { kind: 'copy-mode', pageUp: false };
    case 'PageUp':
      return { kind: 'copy-mode', pageUp: true };
    case 'l':
    case 'C-l':
      return { kind: 'redraw' };
    case 'y':
      return { kind: 'clipboard-allow', always: false };
    case 'Y':
      return { kind: 'clipboard-allow', always: true };
  }
  if (key.length === 1 && key >= '0' && key <= '9') return { kind: 'select-tab', index: Number(key) };
  return undefined;
}

/** Longest suffix of `s` that is a proper prefix of `marker` (a marker split across reads). */
function heldTail(s: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, s.length); n > 0; n--) {
    if (marker.startsWith(s.slice(s.length - n))) return n;
  }
  return 0;
}

/** Could `rest` (which starts with ESC [ and runs to the end of the read) grow into a sequence we translate? */
function incomplete(rest: string): boolean {
  return PASTE_START.startsWith(rest) || MOUSE_START.test(rest);
}

/**
 * Length of the key at the start of `s`: a whole CSI/SS3 sequence or one code point; 0 = incomplete.
 * A sequence with no final byte within MAX_HELD_INPUT chars is taken there as one (unknown) key: nothing
 * longer is ever held, and the same input gives the same keys however it is split.
 */
function tokenLength(s: string): number {
  if (s[0] === '\x1b' && (s[1] === '[' || s[1] === 'O')) {
    const end = Math.min(s.length, MAX_HELD_INPUT);
    let j = 2;
    while (j < end && !/[@-~]/.test(s[j] ?? '')) j++;
    if (j < end) return j + 1;
    return s.length >= MAX_HELD_INPUT ? MAX_HELD_INPUT : 0;
  }
  return String.fromCodePoint(s.codePointAt(0) ?? 0).length;
}

export class InputParser {
  /** Set by the app while copy mode, help or a prompt owns the keyboard. */
  modal = false;
  private state: 'normal' | 'prefix' | 'paste' = 'normal';
  private pending = '';
  /** Guest bytes not yet emitted: consecutive pieces go out as one write. */
  private buffered: Array<string | Uint8Array> = [];

  /**
   * `emit` runs synchronously, so a command can switch the parser to modal before the rest of
   * the same read is interpreted (e.g. "prefix [" then "k" typed fast).
   */
  constructor(
    private readonly prefix: string,
    private readonly guest: () => GuestInputState,
    private readonly emit: (ev: InputEvent) => void,
  ) {}

  get inPrefix(): boolean {
    return this.state === 'prefix';
  }

  /** True while a partial escape sequence is held back; call flush() after a short timeout. */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Chars held back (read-only: the fuzzer checks it never exceeds MAX_HELD_INPUT). */
  get heldLength(): number {
    return this.pending.length;
  }

  feed(data: string): void {
    let s = this.pending + data;
    this.pending = '';
    while (s.length > 0) {
      const used = this.step(s);
      if (used === 0) {
        this.pending = s;
        break;
      }
      s = s.slice(used);
    }
    this.flushGuest();
  }

  /** A held partial sequence timed out: it was typed keys after all, deliver it as such. */
  flush(): void {
    const s = this.pending;
    this.pending = '';
    if (s) {
      if (this.state === 'paste') this.guestData(s);
      else if (this.state === 'prefix') this.prefixKey(s);
      else if (this.modal) this.keys(s);
      else this.guestData(s);
    }
    this.flushGuest();
  }

  /** Consume a prefix of `s`; returns how much, 0 = need more input. */
  private step(s: string): number {
    if (this.state === 'paste') return this.pasteStep(s);
    if (this.state === 'prefix') return this.prefixStep(s);
    if (this.modal) return this.modalStep(s);
    return this.normalStep(s);
  }

  private normalStep(s: string): number {
    let i = 0;
    while (i < s.length) {
      const c = s[i];
      if (c === this.prefix) {
        this.guestData(s.slice(0, i));
        this.state = 'prefix';
        return i + 1;
      }
      if (c === '\x1b' && s[i + 1] === '[') {
        const handled = this.escape(s, i);
        if (handled > 0) return handled;
        if (handled < 0) {
          // Partial sequence at the end of this read: keep it for the next one.
          this.guestData(s.slice(0, i));
          return i === 0 ? 0 : i;
        }
      }
      i++;
    }
    this.guestData(s);
    return s.length;
  }

  /**
   * Translate the sequence at s[i] if it is one we own. Returns the bytes consumed from s[0]
   * (after flushing s[0..i) to the guest), 0 if it is not ours, -1 if it is incomplete.
   */
  private escape(s: string, i: number): number {
    if (s.startsWith(PASTE_START, i)) {
      this.guestData(s.slice(0, i));
      this.state = 'paste';
      if (this.guest().bracketedPaste) this.guestData(PASTE_START);
      return i + PASTE_START.length;
    }
    if (s.startsWith('\x1b[I', i) || s.startsWith('\x1b[O', i)) {
      this.guestData(s.slice(0, i));
      if (this.guest().focus) this.guestData(s.slice(i, i + 3));
      return i + 3;
    }
    MOUSE.lastIndex = i;
    const m = MOUSE.exec(s);
    if (m) {
      this.guestData(s.slice(0, i));
      const ev = parseSgrMouse(m[0]);
      const bytes = ev && encodeForGuest(ev, this.guest().mouse);
      if (bytes !== undefined) this.guestData(bytes);
      return i + m[0].length;
    }
    return incomplete(s.slice(i)) ? -1 : 0;
  }

  private pasteStep(s: string): number {
    const end = s.indexOf(PASTE_END);
    if (end < 0) {
      const keep = heldTail(s, PASTE_END);
      this.guestData(s.slice(0, s.length - keep));
      return s.length - keep;
    }
    this.guestData(s.slice(0, end));
    if (this.guest().bracketedPaste) this.guestData(PASTE_END);
    this.state = 'normal';
    return end + PASTE_END.length;
  }

  private prefixStep(s: string): number {
    const len = tokenLength(s);
    if (len === 0) return 0; // arrow key split across reads
    this.prefixKey(s.slice(0, len));
    return len;
  }

  private prefixKey(token: string): void {
    this.state = 'normal';
    if (token === this.prefix) {
      this.guestData(this.prefix); // prefix twice: the guest gets the prefix byte itself
      return;
    }
    const key = decodeKeys(token)[0];
    const command = key === undefined ? undefined : prefixCommand(key);
    if (command) this.send({ type: 'command', command });
  }

  /** One key at a time: a key that ends the modal mode hands the rest of the read to the guest. */
  private modalStep(s: string): number {
    const len = tokenLength(s);
    if (len === 0) return 0; // an arrow key split across reads: wait for the rest (flush() gives it as keys)
    const token = s.slice(0, len);
    // Paste markers are not keys; pasted text arrives as keys (e.g. into a search prompt).
    if (token !== PASTE_START && token !== PASTE_END) this.keys(token);
    return len;
  }

  private keys(s: string): void {
    const keys = decodeKeys(s);
    if (keys.length > 0) this.send({ type: 'keys', keys });
  }

  private guestData(data: string | Uint8Array): void {
    if (data.length > 0) this.buffered.push(data);
  }

  private send(ev: InputEvent): void {
    this.flushGuest();
    this.emit(ev);
  }

  private flushGuest(): void {
    if (this.buffered.length === 0) return;
    const parts = this.buffered;
    this.buffered = [];
    if (parts.every((p) => typeof p === 'string')) {
      this.emit({ type: 'guest', data: parts.join('') });
      return;
    }
    for (const data of parts) this.emit({ type: 'guest', data });
  }
}
