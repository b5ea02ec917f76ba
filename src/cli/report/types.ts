import type { SnapshotStats } from '../../pipeline/events';
import type { FiguresSpread } from '../run/spread';

/**
 * One snapshot run of a comparison: what `compareHtml` and `compareTable`
 * take, one per strategy and pool size. `RunRecorder` builds one from a
 * snapshot's events.
 */
export interface CompareRun {
  /**
   * The run's name in legends and tables.
   * @default `queue`, or `copy, pool 16 MiB` (from `stats.strategy` and `stats.pool`)
   */
  readonly label?: string;
  /** The snapshot's `done` stats: strategy, pool size (`pool.pages`), stalls, pages saved, duration. */
  readonly stats: SnapshotStats;
  /** From the snapshot's `progress` events, in time order. */
  readonly series: readonly ProgressSample[];
  /** Writer stalls, per fault or as percentiles. */
  readonly stalls: StallDistribution;
}

/** One `progress` event of a run. */
export interface ProgressSample {
  /** Milliseconds since t0 on the snapshot's clock. */
  readonly atMs: number;
  /** Pool pages holding copies not yet written. */
  readonly poolInUse: number;
  /** Pages saved so far, by how they reached storage. */
  readonly saved: { readonly bulk: number; readonly fault: number; readonly copy: number };
}

/**
 * Writer stalls of a run, each from a fault to its page's unprotect, in
 * microseconds: every fault's stall (`samples`, in any order), or
 * percentiles when only those are known (`percentiles`: `percentile` from 0
 * to 100, 100 being the largest stall; `count` is the faults they summarise).
 */
export type StallDistribution =
  | { readonly kind: 'samples'; readonly micros: ArrayLike<number> }
  | { readonly kind: 'percentiles'; readonly count: number; readonly points: readonly StallPercentile[] };

/** The stall at or under which `percentile` per cent of the faults waited. */
export interface StallPercentile {
  readonly percentile: number;
  readonly micros: number;
}

/** Words around the comparison's plots. */
export interface CompareReportOptions {
  /**
   * The page's title.
   * @default 'bgsnap compare: writer stall, copy-pool use and pages saved per run'
   */
  readonly title?: string;
  /** A line under the title: what was compared (memory, workload, storage). */
  readonly subtitle?: string;
  /** Per run, the spread of its figures over `--repeat` runs, for the table. */
  readonly spreads?: readonly FiguresSpread[];
  /** Runs behind each configuration (`--repeat`). @default 1 */
  readonly repeat?: number;
}
