import { build, type Histogram } from 'hdr-histogram-js';

/** Writer stall percentiles, in scheduler milliseconds (virtual ticks in virtual time). */
export interface StallSummary {
  /** Faults measured. */
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Records writer stalls (fault → unprotect) in an HDR histogram of
 * nanoseconds, to three significant digits. Percentiles are reported as the
 * top of their bucket, but never above the largest stall recorded.
 */
export class StallRecorder {
  private readonly histogram: Histogram = build({ numberOfSignificantValueDigits: 3 });

  /** Records one stall of `ms` milliseconds. */
  record(ms: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(ms * 1e6)));
  }

  summary(): StallSummary {
    const h = this.histogram;
    if (h.totalCount === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
    const max = h.maxValue;
    return {
      count: h.totalCount,
      p50: Math.min(h.getValueAtPercentile(50), max) / 1e6,
      p99: Math.min(h.getValueAtPercentile(99), max) / 1e6,
      max: max / 1e6,
    };
  }
}
