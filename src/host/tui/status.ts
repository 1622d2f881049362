/**
 * The status line: tabs on the left, VM facts on the right. Segments have priorities; on a narrow
 * terminal the least important go first, and whatever remains is cut with an ellipsis rather than
 * wrapping or overflowing (the status line is exactly one row, always).
 */
import { A_BOLD, A_INVERSE, CM_P16, Frame, type Style } from './frame.js';
import type { StatusInfo } from './types.js';
import { sanitize, stringWidth, truncate } from './width.js';

export interface TabLabel {
  title: string;
  active: boolean;
  /** The tab rang the bell while in the background. */
  bell: boolean;
}

export interface StatusModel {
  info: StatusInfo;
  tabs: TabLabel[];
  now: number;
  /** e.g. '^]' */
  prefix: string;
  /** Mode indicator: 'PREFIX', 'COPY 12/340', … */
  mode?: string;
  /** Transient message or prompt; shown before everything else. */
  message?: string;
  /** false under NO_COLOR: alerts are inverse/bold only, without the red. */
  color?: boolean;
}

export interface Segment {
  text: string;
  style: Style;
  /** Higher survives longer when space runs out. */
  priority: number;
  side: 'left' | 'right';
}

const BAR: Style = { fg: 0, bg: 0, attrs: A_INVERSE };
const STRONG: Style = { fg: 0, bg: 0, attrs: A_INVERSE | A_BOLD };
const ALERT: Style = { fg: CM_P16 | 1, bg: 0, attrs: A_INVERSE | A_BOLD };
const ALERT_NO_COLOR: Style = STRONG;

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d${h}h`;
  const mmss = `${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

export function formatMiB(mib: number): string {
  if (mib >= 1024) {
    const g = mib / 1024;
    return `${Number.isInteger(g) ? g : g.toFixed(1)}G`;
  }
  return `${Math.round(mib)}M`;
}

function tabText(tab: TabLabel, index: number): string {
  return `${index}:${truncate(sanitize(tab.title) || 'shell', 16)}${tab.bell ? '!' : ''}${tab.active ? '*' : ''}`;
}

export function statusSegments(model: StatusModel): Segment[] {
  const { info } = model;
  const segs: Segment[] = [];
  if (model.message) segs.push({ text: sanitize(model.message), style: STRONG, priority: 100, side: 'left' });
  if (model.mode) segs.push({ text: `[${sanitize(model.mode)}]`, style: STRONG, priority: 95, side: 'left' });
  const activeIndex = model.tabs.findIndex((t) => t.active);
  const active = model.tabs[activeIndex];
  model.tabs.forEach((tab, i) => {
    // The active tab outlives the others; others to its left/right drop by distance.
    const priority = tab.active ? 80 : 40 - Math.abs(i - activeIndex);
    segs.push({ text: tabText(tab, i), style: tab.active ? STRONG : BAR, priority, side: 'left' });
  });
  if (active === undefined && model.tabs.length === 0)
    segs.push({ text: 'no shell', style: BAR, priority: 80, side: 'left' });

  segs.push({ text: truncate(sanitize(info.name), 24), style: STRONG, priority: 70, side: 'right' });
  segs.push({ text: `${sanitize(info.backend)}/${sanitize(info.accel)}`, style: BAR, priority: 30, side: 'right' });
  segs.push({ text: `${info.vcpus}cpu ${formatMiB(info.memoryMiB)}`, style: BAR, priority: 20, side: 'right' });
  if (info.readyMs !== undefined)
    segs.push({ text: `ready ${formatDuration(info.readyMs)}`, style: BAR, priority: 10, side: 'right' });
  if (info.guestCpuPercent !== undefined)
    segs.push({ text: `cpu ${Math.round(info.guestCpuPercent)}%`, style: BAR, priority: 50, side: 'right' });
  if (info.guestMemUsedBytes !== undefined) {
    const used = formatMiB(info.guestMemUsedBytes / 1048576);
    const total = info.guestMemTotalBytes !== undefined ? `/${formatMiB(info.guestMemTotalBytes / 1048576)}` : '';
    segs.push({ text: `mem ${used}${total}`, style: BAR, priority: 45, side: 'right' });
  }
  if (info.ports?.length)
    segs.push({
      text: truncate(`ports ${info.ports.map(sanitize).join(' ')}`, 40),
      style: BAR,
      priority: 35,
      side: 'right',
    });
  segs.push({ text: `up ${formatDuration(model.now - info.startedAt)}`, style: BAR, priority: 60, side: 'right' });
  if (info.connection !== 'connected')
    segs.push({
      text: info.connection,
      style: model.color === false ? ALERT_NO_COLOR : ALERT,
      priority: 90,
      side: 'right',
    });
  segs.push({ text: `${model.prefix} ? help`, style: BAR, priority: 5, side: 'right' });
  return segs;
}

/** Which segments fit in `width`, in display order, the last one possibly truncated. */
export function fitSegments(segs: Segment[], width: number): Segment[] {
  const kept = [...segs];
  // One space around each segment, so the bar reads as separated words.
  const total = (list: Segment[]): number => list.reduce((n, s) => n + stringWidth(s.text) + 1, 0) + 1;
  while (kept.length > 1 && total(kept) > width) {
    let lowest = 0;
    kept.forEach((s, i) => {
      if (s.priority < (kept[lowest]?.priority ?? Infinity)) lowest = i;
    });
    kept.splice(lowest, 1);
  }
  const only = kept[0];
  if (kept.length === 1 && only !== undefined && total(kept) > width) {
    return [{ ...only, text: truncate(only.text, Math.max(0, width - 2)) }];
  }
  return kept;
}

/** Draw the status line into frame row `y`. */
export function drawStatus(frame: Frame, y: number, model: StatusModel): void {
  frame.fillRow(y, BAR);
  const segs = fitSegments(statusSegments(model), frame.cols);
  let x = 1;
  for (const s of segs.filter((seg) => seg.side === 'left')) x = frame.text(x, y, s.text, s.style) + 1;
  const right = segs.filter((seg) => seg.side === 'right');
  const rightWidth = right.reduce((n, s) => n + stringWidth(s.text) + 1, 0);
  let rx = Math.max(x, frame.cols - rightWidth);
  for (const s of right) rx = frame.text(rx, y, s.text, s.style) + 1;
}

/** The status line as plain text, exactly as drawn (tests, logs). */
export function statusText(model: StatusModel, width: number): string {
  const frame = new Frame(width, 1);
  drawStatus(frame, 0, model);
  return frame.chars.join('');
}
