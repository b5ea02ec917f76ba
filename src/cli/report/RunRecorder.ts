import type { SnapshotEvent, SnapshotStats } from '../../pipeline/events';
import type { StallSummary } from '../../metrics/StallRecorder';
import type { CompareRun, ProgressSample, StallDistribution } from './types';

/**
 * Collects a `CompareRun` from one snapshot's events: the `progress` events
 * as time series, the `done` stats, and every fault's stall when the
 * snapshot runs with `detail: true` (a `fault` event, then the
 * `unprotected` event of its page). Without `detail`, the stalls are the
 * stats' p50, p99 and max.
 * @example
 * const recorder = new RunRecorder();
 * await lastValueFrom(snapshot(memory, sink, { detail: true }).pipe(tap((e) => recorder.next(e))));
 * const run = recorder.result();
 */
export class RunRecorder {
  private t0: number | undefined;
  private stats: SnapshotStats | undefined;
  private readonly series: ProgressSample[] = [];
  private readonly micros: number[] = [];
  /** Fault times waiting for their page's unprotect, by block, then page. */
  private readonly waiting = new Map<string, Map<number, number[]>>();
  private pending = 0;
  private faultEvents = 0;

  constructor(private readonly label?: string) {}

  /** Takes one snapshot event. */
  next(event: SnapshotEvent): void {
    switch (event.type) {
      case 'started':
        this.t0 = event.t0;
        return;
      case 'progress':
        this.t0 ??= event.at;
        this.series.push({ atMs: event.at - this.t0, poolInUse: event.poolInUse, saved: { ...event.saved } });
        return;
      case 'fault': {
        this.faultEvents++;
        this.pending++;
        let pages = this.waiting.get(event.block);
        if (pages === undefined) this.waiting.set(event.block, (pages = new Map()));
        const times = pages.get(event.page);
        if (times === undefined) pages.set(event.page, [event.at]);
        else times.push(event.at);
        return;
      }
      case 'unprotected': {
        if (this.pending === 0) return;
        const pages = this.waiting.get(event.block);
        if (pages === undefined) return;
        for (let page = event.page; page < event.page + event.count; page++) {
          const times = pages.get(page);
          if (times === undefined) continue;
          for (const at of times) this.micros.push((event.at - at) * 1000);
          this.pending -= times.length;
          pages.delete(page);
        }
        return;
      }
      case 'done':
        this.stats = event.stats;
        return;
      default:
        return;
    }
  }

  /**
   * The run.
   * @throws Error when the snapshot's `done` has not been seen.
   */
  result(): CompareRun {
    const stats = this.stats;
    if (stats === undefined) throw new Error('RunRecorder.result(): the snapshot has not emitted `done`');
    const stalls: StallDistribution =
      this.faultEvents > 0 || stats.faults === 0 ? { kind: 'samples', micros: this.micros } : stallPercentiles(stats.stall);
    return { ...(this.label === undefined ? {} : { label: this.label }), stats, series: this.series, stalls };
  }
}

/** The percentiles a `StallSummary` (milliseconds) holds, as a distribution in microseconds. */
export function stallPercentiles(summary: StallSummary): StallDistribution {
  return {
    kind: 'percentiles',
    count: summary.count,
    points: [
      { percentile: 50, micros: summary.p50 * 1000 },
      { percentile: 99, micros: summary.p99 * 1000 },
      { percentile: 100, micros: summary.max * 1000 },
    ],
  };
}
