/**
 * Key names for the TUI's own modes (prefix commands, copy mode, prompts). Guest input is never
 * decoded: it passes through as bytes, so every key the user's terminal can send reaches the guest.
 */
import { TuiConfigError } from './errors.js';

/** A printable character as itself, or a name: Up, Down, Left, Right, PageUp, PageDown, Home, End,
 *  Enter, Escape, Backspace, Tab, Delete, C-a … C-z, or Unknown for sequences we do not interpret. */
export type Key = string;

const CSI_KEYS: Record<string, Key> = {
  A: 'Up',
  B: 'Down',
  C: 'Right',
  D: 'Left',
  H: 'Home',
  F: 'End',
  '1~': 'Home',
  '4~': 'End',
  '7~': 'Home',
  '8~': 'End',
  '3~': 'Delete',
  '5~': 'PageUp',
  '6~': 'PageDown',
  '2~': 'Insert',
};

/** Split a chunk of terminal input into keys. Escape sequences are consumed whole. */
export function decodeKeys(data: string): Key[] {
  const keys: Key[] = [];
  let i = 0;
  while (i < data.length) {
    const ch = data[i] ?? '';
    if (ch === '\x1b') {
      const next = data[i + 1];
      if (next === '[' || next === 'O') {
        // CSI / SS3: parameters then one final byte in @–~.
        let j = i + 2;
        while (j < data.length && !/[@-~]/.test(data[j] ?? '')) j++;
        const body = data.slice(i + 2, j + 1);
        const final = body.slice(-1);
        const params = body.slice(0, -1).replace(/;.*$/, ''); // ignore modifiers
        keys.push(CSI_KEYS[final === '~' ? `${params}~` : final] ?? 'Unknown');
        i = j + 1;
        continue;
      }
      if (next === undefined) {
        keys.push('Escape');
        i++;
        continue;
      }
      keys.push('Escape'); // Alt-x: treat as Escape then x, which cancels modal modes, as in tmux
      i++;
      continue;
    }
    const code = ch.charCodeAt(0);
    if (ch === '\r' || ch === '\n') keys.push('Enter');
    else if (ch === '\t') keys.push('Tab');
    else if (code === 0x7f || code === 0x08) keys.push('Backspace');
    else if (code < 0x20) keys.push(`C-${String.fromCharCode(code + 0x60)}`);
    else {
      const cp = data.codePointAt(i) ?? code;
      const s = String.fromCodePoint(cp);
      keys.push(s);
      i += s.length;
      continue;
    }
    i++;
  }
  return keys;
}

/**
 * Parse a tmux-style prefix key ('C-]', 'C-a', '^]', 'C-Space') into the byte the terminal sends.
 * Only control characters are accepted: a printable prefix would make that character untypable.
 */
export function parsePrefixKey(spec: string): string {
  const m = /^(?:C-|\^)(.+)$/i.exec(spec.trim());
  const key = m?.[1];
  if (key !== undefined) {
    if (/^(space|@)$/i.test(key)) return '\x00';
    if (key.length === 1) {
      const c = key.toLowerCase().charCodeAt(0);
      if (c >= 0x61 && c <= 0x7a) return String.fromCharCode(c - 0x60);
      if ('[\\]^_'.includes(key)) {
        if (key === '[')
          throw new TuiConfigError(
            `prefix key "${spec}" is Escape, which programs use constantly; choose e.g. "C-]" or "C-a"`,
          );
        return String.fromCharCode(key.charCodeAt(0) - 0x40);
      }
    }
  }
  throw new TuiConfigError(`prefix key "${spec}" is not a control key; write it like "C-]", "C-a" or "C-b"`);
}

/** Why `spec` cannot be the prefix key (parsePrefixKey's message), or undefined if it can. */
export function prefixKeyProblem(spec: string): string | undefined {
  try {
    parsePrefixKey(spec);
    return undefined;
  } catch (err) {
    if (err instanceof TuiConfigError) return err.message;
    throw err;
  }
}

/** How the status line and help name the prefix: '^]' style. */
export function prefixLabel(byte: string): string {
  const c = byte.charCodeAt(0);
  return c === 0 ? '^Space' : `^${String.fromCharCode(c + 0x40)}`;
}
