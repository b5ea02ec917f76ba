import { formatBandwidth, formatBytes, formatDuration, formatMs, formatTable } from '../../sim/format';
import { formatSpread, type FiguresSpread } from '../run/spread';
import { runName } from './svg';
import type { CompareRun } from './types';

/** The header of `compareRows`. `pool` is allocated before t0; `pool peak` is the most of it in use at once. */
export const COMPARE_COLUMNS = ['run', 'faults', 'stall p50', 'p99', 'max', 'duration', 'throughput', 'pool', 'pool peak', 'bulk', 'fault', 'copy'] as const;

/** A run's throughput: bytes written per second of its duration. */
export function throughputOf(run: CompareRun): number {
  const seconds = run.stats.durationMs / 1000;
  return seconds > 0 ? run.stats.bytesWritten / seconds : 0;
}

/**
 * The runs as table rows, header first: one row per run, pages saved by
 * bulk, fault and copy on the right. With `spreads` (one per run, from
 * `--repeat`), the stall, duration, throughput and pool-peak cells give the
 * median over the repeats and, where they differ, the range: `3.1 µs (2.8 µs–4.1 µs)`.
 */
export function compareRows(runs: readonly CompareRun[], spreads?: readonly FiguresSpread[]): string[][] {
  return [
    [...COMPARE_COLUMNS],
    ...runs.map((run, i) => {
      const { stats } = run;
      const spread = spreads?.[i];
      const cell = (value: number, key: keyof FiguresSpread, format: (v: number) => string): string =>
        spread === undefined ? format(value) : formatSpread(spread[key], format);
      const hasPool = stats.pool.pages > 0 || stats.strategy !== 'queue';
      return [
        runName(run),
        String(stats.faults),
        cell(stats.stall.p50, 'stallP50Ms', formatMs),
        cell(stats.stall.p99, 'stallP99Ms', formatMs),
        cell(stats.stall.max, 'stallMaxMs', formatMs),
        cell(stats.durationMs, 'durationMs', formatDuration),
        stats.durationMs > 0 ? cell(throughputOf(run), 'throughputBytesPerSecond', formatBandwidth) : '-',
        hasPool ? formatBytes(stats.pool.pages * stats.pageSize) : '-',
        hasPool ? cell(stats.pool.peakBytes, 'poolPeakBytes', formatBytes) : '-',
        String(stats.saved.bulk),
        String(stats.saved.fault),
        String(stats.saved.copy),
      ];
    }),
  ];
}

/** The runs as a plain-text table for the terminal (`formatTable`); `spreads` as for `compareRows`. */
export function compareTable(runs: readonly CompareRun[], spreads?: readonly FiguresSpread[]): string {
  return formatTable(compareRows(runs, spreads));
}
