/**
 * Text that came from a guest or from a state file, made safe to print: C0, DEL and C1 control characters
 * become `\xNN`, so it cannot move the cursor, set a title or clear the screen of the user's terminal.
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** escapeControl for multi-line text (a console tail): each line escaped, the line breaks (LF or CRLF) kept as LF. */
export function escapeControlLines(text: string): string {
  return text.split(/\r?\n/).map(escapeControl).join('\n');
}
