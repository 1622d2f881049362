/**
 * Timestamps of a session's start-up steps, so a slow start can be explained step by step
 * (`VIRTUALGHOST_DEBUG=1` prints them; the bench reports them). Times are `performance.now()`: ms since
 * this process started, so the CLI's own start-up (module loading) shows up as the first gap.
 */
export interface TraceMark {
  label: string;
  atMs: number;
}

export type MarkFn = (label: string) => void;

export class StartTrace {
  readonly marks: TraceMark[] = [];

  constructor(private readonly onMark?: (m: TraceMark) => void) {}

  readonly mark: MarkFn = (label) => {
    const m = { label, atMs: performance.now() };
    this.marks.push(m);
    this.onMark?.(m);
  };

  /** Milliseconds between two marks (the first of each label), or NaN if either is missing. */
  between(from: string, to: string): number {
    const a = this.marks.find((m) => m.label === from);
    const b = this.marks.find((m) => m.label === to);
    return a && b ? b.atMs - a.atMs : Number.NaN;
  }

  /** "label +Δms" lines, each relative to the previous mark. */
  describe(): string[] {
    return this.marks.map(
      (m, i) =>
        `${(m.atMs / 1000).toFixed(3)}s  +${(m.atMs - (this.marks[i - 1]?.atMs ?? 0)).toFixed(0).padStart(4)} ms  ${m.label}`,
    );
  }
}
