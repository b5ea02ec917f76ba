import { describe, expect, it } from 'vitest';
import { StallRecorder } from '../../src/metrics/StallRecorder';

describe('StallRecorder', () => {
  it('never reports a percentile above the largest stall', () => {
    const recorder = new StallRecorder();
    recorder.record(4.29353);
    const { p50, p99, max, count } = recorder.summary();
    expect(count).toBe(1);
    expect(max).toBeCloseTo(4.29353, 5);
    expect(p50).toBeLessThanOrEqual(max);
    expect(p99).toBeLessThanOrEqual(max);
  });
});
