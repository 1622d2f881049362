/**
 * Frame pacing: draw as soon as possible when idle, at most one frame per `minIntervalMs` while
 * output floods, and never while the terminal's stream is backed up (frames then coalesce instead of
 * queueing in memory). An urgent request — the echo of a keystroke — is drawn in this turn of the
 * event loop whatever the pacing says: coalescing must never delay what the user just typed.
 */
export class FrameScheduler {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private last = Number.NEGATIVE_INFINITY;
  private wanted = false;
  private blocked = false;
  private disposed = false;

  constructor(
    private readonly draw: () => void,
    private readonly minIntervalMs = 8,
    private readonly now = () => performance.now(),
  ) {}

  request(urgent = false): void {
    this.wanted = true;
    if (this.immediate !== undefined || this.blocked || this.disposed) return;
    const wait = urgent ? 0 : this.last + this.minIntervalMs - this.now();
    if (this.timer !== undefined) {
      if (wait > 0) return; // a paced frame is already due
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // setImmediate still batches everything that arrived in this turn of the event loop.
    if (wait <= 0)
      this.immediate = setImmediate(() => {
        this.run();
      });
    else
      this.timer = setTimeout(() => {
        this.run();
      }, wait);
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
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private run(): void {
    this.clear();
    if (!this.wanted || this.blocked || this.disposed) return;
    this.wanted = false;
    this.last = this.now();
    this.draw();
  }
}
