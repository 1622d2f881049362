/**
 * Frame pacing with a controlled clock: idle requests draw in the next turn, a flood is paced to one
 * frame per interval, a backed-up terminal holds frames, and an urgent request (a keystroke's echo)
 * is never held back by the pacing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameScheduler } from '../../src/host/tui/scheduler.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

// Timers are fake (setImmediate stays real: "the next turn" is what the scheduler batches on), and the
// scheduler's clock is the harness's: `elapse` moves both, so pacing is checked without real waiting.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function harness(intervalMs: number): { s: FrameScheduler; draws: number[]; elapse: (ms: number) => void } {
  const clock = { t: 1000 };
  const draws: number[] = [];
  const s = new FrameScheduler(
    () => {
      draws.push(clock.t);
    },
    intervalMs,
    () => clock.t,
  );
  const elapse = (ms: number): void => {
    clock.t += ms;
    vi.advanceTimersByTime(ms);
  };
  return { s, draws, elapse };
}

describe('FrameScheduler', () => {
  it('draws an idle request in the next turn of the event loop, once for many requests', async () => {
    const { s, draws } = harness(50);
    s.request();
    s.request();
    s.request();
    expect(draws).toHaveLength(0);
    await turn();
    expect(draws).toHaveLength(1);
    s.dispose();
  });

  it('paces requests that follow a frame to one per interval', async () => {
    const { s, draws, elapse } = harness(50);
    s.request();
    await turn();
    s.request();
    await turn();
    await turn();
    elapse(49);
    expect(draws).toHaveLength(1); // waits for the whole interval
    elapse(1);
    expect(draws).toEqual([1000, 1050]);
    s.dispose();
  });

  it('draws an urgent request at once even right after a frame, replacing the paced timer', async () => {
    const { s, draws, elapse } = harness(10_000);
    s.request();
    await turn();
    s.request(); // paced: would wait 10 s
    await turn();
    expect(draws).toHaveLength(1);
    s.request(true);
    await turn();
    expect(draws).toHaveLength(2);
    elapse(20_000);
    expect(draws).toHaveLength(2); // the paced timer was consumed by the urgent frame, not run again
    s.dispose();
  });

  it('holds frames while blocked, even urgent ones, and draws once unblocked', async () => {
    const { s, draws } = harness(0);
    s.block();
    s.request(true);
    await turn();
    expect(draws).toHaveLength(0);
    s.unblock();
    await turn();
    expect(draws).toHaveLength(1);
    s.dispose();
  });
});
