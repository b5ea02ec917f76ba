import { formatBandwidth, formatBytes, formatDuration, formatMs, formatShare } from './format';
import type { SimulationResult } from './simulate';
import type { SweepRow } from './sweep';

/** A simulation's figures as label/value rows. */
export function resultRows(result: SimulationResult): string[][] {
  const { stats, workload, hostMemory, storage } = result;
  const w = workload;
  const pages = `${stats.totalPages} pages of ${formatBytes(stats.pageSize)}`;
  return [
    ['memory', `${formatBytes(stats.totalPages * stats.pageSize)} (${pages})`],
    ['strategy', stats.strategy],
    ['storage', `${storage.name ?? 'custom'}: ${formatBandwidth(storage.bandwidth)}, ${formatMs(storage.latency)} per write, queue depth ${storage.queueDepth}; ${result.capacity} in flight`],
    ['workload', `${w.writers} writers × ${Number.isInteger(w.writesPerSecond) ? w.writesPerSecond : Number(w.writesPerSecond.toPrecision(3))} writes/s, ${w.distribution}${w.hotSetBytes > 0 ? `, hot set ${formatBytes(w.hotSetBytes)} taking ${formatShare(w.hotShare)}` : ''}; seed ${result.seed}`],
    ['duration', `${formatDuration(stats.durationMs)} (virtual)`],
    ['saved', `bulk ${stats.saved.bulk}, fault ${stats.saved.fault}, copy ${stats.saved.copy} pages in ${stats.writes} writes`],
    ['faults', String(stats.faults)],
    ['writer stall', `p50 ${formatMs(stats.stall.p50)}, p99 ${formatMs(stats.stall.p99)}, max ${formatMs(stats.stall.max)}`],
    ['writers', `${w.writes} writes, ${w.blocked} blocked, ${formatShare(w.blockedShare)} of their time blocked`],
    ['pool', `${stats.pool.pages} pages (${formatBytes(hostMemory.poolBytes)}), peak ${stats.pool.peakPages} (${formatBytes(hostMemory.poolPeakBytes)})`],
    ['host memory', `${formatBytes(hostMemory.allocatedBytes)} = page states ${formatBytes(hostMemory.stateBytes)} + pool ${formatBytes(hostMemory.poolBytes)}, allocated before t0`],
  ];
}

/**
 * The header of `sweepRows`. `host` is the host memory a run holds from before
 * t0 to its end (`HostMemory.allocatedBytes`: page states + the whole pool);
 * `pool peak` is the most of the pool it used at once.
 */
export const SWEEP_COLUMNS = ['storage', 'strategy', 'pool', 'faults', 'stall p50', 'p99', 'max', 'blocked', 'duration', 'host', 'pool peak'] as const;

/** A sweep as table rows, header first. */
export function sweepRows(rows: readonly SweepRow[]): string[][] {
  return [
    [...SWEEP_COLUMNS],
    ...rows.map(({ storage, strategy, poolBytes, result: { stats, workload, hostMemory } }) => [
      storage,
      strategy,
      strategy === 'queue' ? '-' : formatBytes(poolBytes),
      String(stats.faults),
      formatMs(stats.stall.p50),
      formatMs(stats.stall.p99),
      formatMs(stats.stall.max),
      formatShare(workload.blockedShare),
      formatDuration(stats.durationMs),
      formatBytes(hostMemory.allocatedBytes),
      strategy === 'queue' ? '-' : formatBytes(hostMemory.poolPeakBytes),
    ]),
  ];
}
