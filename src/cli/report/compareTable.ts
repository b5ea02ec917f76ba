import { formatBandwidth, formatBytes, formatDuration, formatMs, formatTable } from '../../sim/format';
import { runName } from './svg';
import type { CompareRun } from './types';

/** The header of `compareRows`. `pool` is allocated before t0; `pool peak` is the most of it in use at once. */
export const COMPARE_COLUMNS = ['run', 'faults', 'stall p50', 'p99', 'max', 'duration', 'throughput', 'pool', 'pool peak', 'bulk', 'fault', 'copy'] as const;

/** The runs as table rows, header first: one row per run, pages saved by bulk, fault and copy on the right. */
export function compareRows(runs: readonly CompareRun[]): string[][] {
  return [
    [...COMPARE_COLUMNS],
    ...runs.map((run) => {
      const { stats } = run;
      const seconds = stats.durationMs / 1000;
      const hasPool = stats.pool.pages > 0 || stats.strategy !== 'queue';
      return [
        runName(run),
        String(stats.faults),
        formatMs(stats.stall.p50),
        formatMs(stats.stall.p99),
        formatMs(stats.stall.max),
        formatDuration(stats.durationMs),
        seconds > 0 ? formatBandwidth(stats.bytesWritten / seconds) : '-',
        hasPool ? formatBytes(stats.pool.pages * stats.pageSize) : '-',
        hasPool ? formatBytes(stats.pool.peakBytes) : '-',
        String(stats.saved.bulk),
        String(stats.saved.fault),
        String(stats.saved.copy),
      ];
    }),
  ];
}

/** The runs as a plain-text table for the terminal (`formatTable`). */
export function compareTable(runs: readonly CompareRun[]): string {
  return formatTable(compareRows(runs));
}
