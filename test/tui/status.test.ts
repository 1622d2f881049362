import { describe, expect, it } from 'vitest';
import { Frame } from '../../src/host/tui/frame.js';
import { drawStatus, formatDuration, formatMiB, statusText, type StatusModel } from '../../src/host/tui/status.js';

const now = 1_000_000_000;
function model(over: Partial<StatusModel> = {}): StatusModel {
  return {
    info: {
      name: 'ghost-7f3a',
      backend: 'qemu',
      accel: 'tcg',
      vcpus: 1,
      memoryMiB: 512,
      readyMs: 3750,
      startedAt: now - 83_000,
      connection: 'connected',
      guestCpuPercent: 12.4,
      guestMemUsedBytes: 80 * 1048576,
      guestMemTotalBytes: 512 * 1048576,
    },
    tabs: [
      { title: 'bash', active: false, bell: false },
      { title: 'vim', active: true, bell: false },
      { title: 'top', active: false, bell: true },
    ],
    now,
    prefix: '^]',
    ...over,
  };
}

function rowText(frame: Frame, y: number): string {
  let s = '';
  for (let x = 0; x < frame.cols; x++) s += frame.chars[y * frame.cols + x] ?? '?';
  return s;
}

describe('status line', () => {
  it('shows everything on a wide terminal', () => {
    const text = statusText(model(), 140);
    for (const part of [
      '0:bash',
      '1:vim*',
      '2:top!',
      'ghost-7f3a',
      'qemu/tcg',
      '1cpu 512M',
      'ready 3.8s',
      'cpu 12%',
      'mem 80M/512M',
      'up 1:23',
      '^] ? help',
    ]) {
      expect(text).toContain(part);
    }
    expect(text.length).toBe(140);
  });

  it('drops the least important segments first as the terminal narrows', () => {
    const w60 = statusText(model(), 60);
    expect(w60).toContain('1:vim*');
    expect(w60).toContain('ghost-7f3a');
    expect(w60).toContain('up 1:23');
    expect(w60).not.toContain('help');
    expect(w60).not.toContain('ready');
    const w30 = statusText(model(), 30);
    expect(w30).toContain('1:vim*');
    expect(w30).toContain('ghost-7f3a');
    expect(w30).not.toContain('0:bash');
    expect(w30.length).toBeLessThanOrEqual(30);
  });

  it('colours a lost connection red, and under NO_COLOR (color: false) uses inverse/bold only', () => {
    const lost = { info: { ...model().info, connection: 'lost' as const } };
    const coloured = new Frame(140, 1);
    drawStatus(coloured, 0, model(lost));
    expect([...coloured.fg].some((fg) => fg !== 0)).toBe(true);
    const plain = new Frame(140, 1);
    drawStatus(plain, 0, model({ ...lost, color: false }));
    expect([...plain.fg].every((fg) => fg === 0)).toBe(true);
    expect([...plain.bg].every((bg) => bg === 0)).toBe(true);
    expect(statusText(model({ ...lost, color: false }), 140)).toContain('lost');
  });

  it('keeps a lost connection visible even when narrow', () => {
    const m = model({ info: { ...model().info, connection: 'lost' } });
    expect(statusText(m, 24)).toContain('lost');
  });

  it('truncates with an ellipsis instead of overflowing, at every width', () => {
    const m = model({ message: 'guest wants to set the clipboard (42 bytes): ^] y to allow' });
    for (let w = 1; w <= 100; w++) {
      const f = new Frame(w, 2);
      drawStatus(f, 1, m);
      expect(rowText(f, 0).trim()).toBe(''); // never spills into other rows
      expect(rowText(f, 1).length).toBe(w);
    }
    const f = new Frame(20, 1);
    drawStatus(f, 0, m);
    expect(rowText(f, 0)).toContain('…');
  });

  it('handles wide characters in names without breaking the row', () => {
    const m = model({
      info: { ...model().info, name: '幽霊マシン' },
      tabs: [{ title: '日本語のタイトル', active: true, bell: false }],
    });
    for (const w of [10, 11, 12, 13, 40]) {
      const f = new Frame(w, 1);
      drawStatus(f, 0, m);
      let cells = 0;
      for (let x = 0; x < w; x++) cells += f.widths[x] === 2 ? 2 : f.widths[x] === 1 ? 1 : 0;
      expect(cells).toBe(w);
    }
  });

  it('shows the published ports (none: no segment)', () => {
    expect(statusText(model(), 160)).not.toContain('ports');
    const text = statusText(model({ info: { ...model().info, ports: ['8080->80', '0.0.0.0:9000->90'] } }), 160);
    expect(text).toContain('ports 8080->80 0.0.0.0:9000->90');
  });

  it('strips control characters from names and titles', () => {
    const m = model({
      info: { ...model().info, name: 'evil\x1b]0;x\x07name' },
      tabs: [{ title: 't\x1b[2J', active: true, bell: false }],
    });
    const text = statusText(m, 120);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\x00-\x1f]/);
    expect(text).toContain('evil]0;xname');
  });

  it('formats durations and sizes', () => {
    expect(formatDuration(3750)).toBe('3.8s');
    expect(formatDuration(83_000)).toBe('1:23');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(2 * 86_400_000 + 3 * 3_600_000)).toBe('2d3h');
    expect(formatMiB(512)).toBe('512M');
    expect(formatMiB(2048)).toBe('2G');
    expect(formatMiB(1536)).toBe('1.5G');
  });
});
