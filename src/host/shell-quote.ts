/** Joins argv into one POSIX shell command line (SSH exec takes a string), quoting where needed. */
export function shellQuote(argv: readonly string[]): string {
  // A bare `NAME=value` first word would be a variable assignment, not the command: quote it.
  return argv
    .map((a, i) =>
      /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) && !(i === 0 && a.includes('=')) ? a : `'${a.replace(/'/g, `'\\''`)}'`,
    )
    .join(' ');
}
