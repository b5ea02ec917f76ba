import { formatBandwidth, formatBytes, formatDuration, formatMs } from '../../sim/format';

/**
 * The figures `--repeat` summarises over the runs of one configuration:
 * their median and range, for the report and its JSON.
 */

/** One run's key figures. Times in milliseconds, sizes in bytes. */
export interface RunFigures {
  readonly durationMs: number;
  readonly throughputBytesPerSecond: number;
  readonly stallP50Ms: number;
  readonly stallP99Ms: number;
  readonly stallMaxMs: number;
  readonly poolPeakBytes: number;
}

/** The median of some runs' values, and the lowest and highest of them. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Every figure of `RunFigures` over the runs. */
export type FiguresSpread = { readonly [K in keyof RunFigures]: Spread };

/** The keys of `RunFigures`, in the order reports show them. */
export const FIGURE_KEYS = ['durationMs', 'throughputBytesPerSecond', 'stallP50Ms', 'stallP99Ms', 'stallMaxMs', 'poolPeakBytes'] as const;

/** The median (of an even count, the mean of the two middle values), min and max of `values` (at least one). */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spreadOf: expected at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** The spread of each figure over `runs` (at least one). */
export function figuresSpread(runs: readonly RunFigures[]): FiguresSpread {
  const out = {} as Record<keyof RunFigures, Spread>;
  for (const key of FIGURE_KEYS) out[key] = spreadOf(runs.map((r) => r[key]));
  return out;
}

/** How each figure is shown, and its name in the text report. */
export const FIGURE_TEXT: Readonly<Record<keyof RunFigures, { readonly name: string; readonly format: (v: number) => string }>> = {
  durationMs: { name: 'duration', format: formatDuration },
  throughputBytesPerSecond: { name: 'throughput', format: formatBandwidth },
  stallP50Ms: { name: 'stall p50', format: formatMs },
  stallP99Ms: { name: 'stall p99', format: formatMs },
  stallMaxMs: { name: 'stall max', format: formatMs },
  poolPeakBytes: { name: 'pool peak', format: formatBytes },
};

/** A spread as text: `755 ms (700 ms–820 ms)`, or the one value when all runs agree. */
export function formatSpread(s: Spread, format: (v: number) => string): string {
  const [median, min, max] = [format(s.median), format(s.min), format(s.max)];
  return min === max ? median : `${median} (${min}–${max})`;
}
