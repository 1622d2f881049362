/** The help overlay (prefix ?): a box over the guest screen listing the commands. */
import { A_BOLD, A_INVERSE, type Frame, type Style } from './frame.js';
import { stringWidth, truncate } from './width.js';

export function helpLines(prefix: string, detachable = false): string[] {
  return [
    `Ghostly Term — prefix ${prefix}, then:`,
    '',
    '  c        new tab (another shell in this VM)',
    '  n p      next / previous tab   (or ← →)',
    '  0-9      go to tab',
    '  [        scrollback / copy mode (PgUp too)',
    '  q        quit and destroy the VM',
    ...(detachable ? ['  d        detach: the VM and its shells keep running'] : []),
    `  ${prefix}       send ${prefix} itself`,
    "  y Y      allow the guest's clipboard write (Y: always)",
    '  l        redraw the screen',
    '  ?        this help',
    '',
    'Copy mode: k j ↑ ↓ PgUp PgDn C-u C-d g G move,',
    '  v select, y/Enter copy, / ? search, n N next, q quit',
    '',
    'Press any key to close.',
  ];
}

const BOX: Style = { fg: 0, bg: 0, attrs: A_INVERSE };
const TITLE: Style = { fg: 0, bg: 0, attrs: A_INVERSE | A_BOLD };

/** Draw centred within frame rows [top, top + rows). Clipped, never wrapped, on small terminals. */
export function drawHelp(frame: Frame, top: number, rows: number, prefix: string, detachable = false): void {
  const lines = helpLines(prefix, detachable);
  const inner = Math.min(frame.cols - 4, Math.max(...lines.map(stringWidth)));
  if (inner < 8 || rows < 3) return;
  const height = Math.min(rows, lines.length + 2);
  const width = inner + 4;
  const x0 = Math.max(0, Math.floor((frame.cols - width) / 2));
  const y0 = top + Math.max(0, Math.floor((rows - height) / 2));
  for (let r = 0; r < height; r++) {
    const y = y0 + r;
    const line = r === 0 || r === height - 1 ? '' : (lines[r - 1] ?? '');
    const text = ` ${truncate(line, inner)}`;
    const end = frame.text(x0, y, ' '.repeat(width), BOX, x0 + width);
    frame.text(x0 + 1, y, text, r === 1 ? TITLE : BOX, end - 1);
    frame.repairWide(y);
  }
}
