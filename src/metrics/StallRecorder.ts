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
 * Records writer stalls (fault → unprotect) in an HDR histogram at nanosecond
 * resolution with three significant digits.
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
    return {
      count: h.totalCount,
      p50: h.getValueAtPercentile(50) / 1e6,
      p99: h.getValueAtPercentile(99) / 1e6,
      max: h.maxValue / 1e6,
    };
  }
}
