/** Random guest output for the fuzz test: raw bytes and a grammar of plausible and hostile sequences. */

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const MODES = [
  1, 3, 5, 6, 7, 9, 12, 25, 47, 66, 69, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 1047, 1048, 1049, 2004, 2026,
];
const TEXT = ['hello', ' ', 'ünï', '日本', '👍', 'e\u0301', '\u200d', '\t', '\r\n', '\n', '\b', '\x7f', '█▓'];

export function piece(r: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
  const n = (max: number): number => Math.floor(r() * max);
  switch (n(12)) {
    case 0:
      return String.fromCharCode(...Array.from({ length: 1 + n(8) }, () => n(256)));
    case 1:
      return `\x1b[${n(3) ? '?' : ''}${pick(MODES)}${pick(['h', 'l'])}`;
    case 2:
      return `\x1b[${Array.from({ length: n(6) }, () => n(300)).join(';')}m`;
    case 3:
      return `\x1b[38;${pick(['5', '2'])};${n(256)};${n(256)};${n(256)}m`;
    case 4:
      return `\x1b[${n(60)};${n(200)}${pick('ABCDEFGHJKLMPSTXZ@`abcdeghlmnqrstu'.split(''))}`;
    case 5:
      return `\x1b]${pick([0, 1, 2, 4, 7, 8, 10, 52, 104, 1337])};${pick(['title', 'c;aGk=', 'c;?', ';http://x', 'x\x1b[31m', '\x07'])}${pick(['\x07', '\x1b\\', ''])}`;
    case 6:
      return `\x1bP${pick(['$q"p', '+q544e', '1;2|x'])}\x1b\\`;
    case 7:
      return pick([
        '\x1b7',
        '\x1b8',
        '\x1bM',
        '\x1bD',
        '\x1bE',
        '\x1bc',
        '\x1b#8',
        '\x1b(0',
        '\x1b(B',
        '\x1b=',
        '\x1b>',
        '\x1bH',
        '\x0e',
        '\x0f',
      ]);
    case 8:
      return `\x1b[${n(30)};${n(30)}r`;
    case 9:
      return `\x1b[${n(7)} q`;
    default:
      return pick(TEXT).repeat(1 + n(5));
  }
}
