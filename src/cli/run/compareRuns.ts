import { StallRecorder } from '../../metrics/StallRecorder';
import { formatBytes } from '../../sim/format';
import { RunRecorder } from '../report/RunRecorder';
import type { CompareRun } from '../report/types';
import { runGuest, type GuestConfig, type GuestRunOptions } from './guest';

/** The strategy and pool of one run of a comparison. */
export interface Contender {
  readonly strategy: 'queue' | 'copy';
  readonly poolBytes: number;
}

/** `queue` once (it has no pool), then `copy` at each pool size, in the order given. */
export function contenders(pools: readonly number[]): Contender[] {
  return [{ strategy: 'queue', poolBytes: 0 }, ...pools.map((poolBytes) => ({ strategy: 'copy' as const, poolBytes }))];
}

/** The name of a contender in progress lines and tables. */
export function contenderName(c: Contender): string {
  return c.strategy === 'queue' ? 'queue' : `copy, pool ${formatBytes(c.poolBytes)}`;
}

/** A comparison run, and how many of its faults' stalls were timed and kept. */
export interface ComparedRun {
  readonly run: CompareRun;
  /** Faults timed by the vCPUs around their writes. */
  readonly timed: number;
  /** Stalls kept: all timed ones, or a uniform sample per vCPU when there were more. */
  readonly kept: number;
}

/**
 * Runs the guest once under `contender` and records it for the comparison
 * report. The writer stalls are the vCPUs' own: every fault's stall as its
 * vCPU timed it around the write (`stalls`, and the stats' `stall`
 * percentiles from them), and `faults` is the vCPUs' count. The rest of the
 * stats and the progress series are the snapshot's.
 */
export async function compareRun(config: Omit<GuestConfig, keyof Contender>, contender: Contender, options: GuestRunOptions = {}): Promise<ComparedRun> {
  const recorder = new RunRecorder();
  const result = await runGuest(
    { ...config, ...contender },
    {
      ...options,
      onEvent: (event) => {
        recorder.next(event);
        options.onEvent?.(event);
      },
    },
  );
  const recorded = recorder.result();
  // The vCPUs' samples, one array; their percentiles from an HDR histogram, as the library's are.
  const kept = result.vcpus.reduce((n, v) => n + v.stalls.micros.length, 0);
  const micros = new Float64Array(kept);
  const histogram = new StallRecorder();
  let at = 0;
  for (const v of result.vcpus) {
    micros.set(v.stalls.micros, at);
    at += v.stalls.micros.length;
    for (const us of v.stalls.micros) histogram.record(us / 1000);
  }
  const faults = result.vcpus.reduce((n, v) => n + v.faults.count, 0);
  const summary = histogram.summary();
  return {
    run: {
      label: contenderName(contender),
      stats: { ...recorded.stats, faults, stall: summary },
      series: recorded.series,
      stalls: { kind: 'samples', micros },
    },
    timed: result.vcpus.reduce((n, v) => n + v.stalls.timed, 0),
    kept,
  };
}
