/** Median and spread of repeated measurements. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p99: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
  return { n: s.length, median: at(0.5), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN, p99: at(0.99) };
}

/** One row of the bench table: a figure, beside the baseline measured in the same run. */
export interface BenchRow {
  figure: string;
  unit: string;
  value: Summary;
  baseline?: { name: string; value: Summary };
}
