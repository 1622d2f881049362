/**
 * Frame pacing: draw as soon as possible when idle (keystroke echo), at most one frame per
 * `minIntervalMs` while output floods, and never while the terminal's stream is backed up
 * (frames then coalesce instead of queueing in memory).
 */
export class FrameScheduler {
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private last = 0;
  private wanted = false;
  private blocked = false;
  private disposed = false;

  constructor(private readonly draw: () => void, private readonly minIntervalMs = 8, private readonly now = () => performance.now()) {}

  request(): void {
    this.wanted = true;
    if (this.timer !== undefined || this.blocked || this.disposed) return;
    const wait = this.last + this.minIntervalMs - this.now();
    // setImmediate still batches everything that arrived in this turn of the event loop.
    this.timer = wait <= 0 ? setImmediate(() => { this.run(); }) : setTimeout(() => { this.run(); }, wait);
  }

  /** The output stream is full: hold frames until `unblock()`. */
  block(): void {
    this.blocked = true;
  }

  unblock(): void {
    this.blocked = false;
    if (this.wanted) this.request();
  }

  dispose(): void {
    this.disposed = true;
    this.clear();
  }

  private clear(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private run(): void {
    this.timer = undefined;
    if (!this.wanted || this.blocked || this.disposed) return;
    this.wanted = false;
    this.last = this.now();
    this.draw();
  }
}
