import { describe, expect, it } from 'vitest';
import { describeSystemError } from '../../src/cli/files';
import { figuresSpread, formatSpread, spreadOf } from '../../src/cli/run/spread';
import { formatMs } from '../../src/sim/format';

describe('spreadOf', () => {
  it('gives the median, the mean of the two middle values for an even count, and the range', () => {
    expect(spreadOf([5])).toEqual({ median: 5, min: 5, max: 5 });
    expect(spreadOf([9, 1, 4])).toEqual({ median: 4, min: 1, max: 9 });
    expect(spreadOf([9, 1, 4, 2])).toEqual({ median: 3, min: 1, max: 9 });
    expect(() => spreadOf([])).toThrow(RangeError);
  });

  it('spreads every figure of the runs, and shows one value when the runs agree', () => {
    const run = (d: number) => ({ durationMs: d, throughputBytesPerSecond: 1, stallP50Ms: 0.002, stallP99Ms: 0.05, stallMaxMs: 2, poolPeakBytes: 4096 });
    const s = figuresSpread([run(700), run(820), run(755)]);
    expect(s.durationMs).toEqual({ median: 755, min: 700, max: 820 });
    expect(s.poolPeakBytes).toEqual({ median: 4096, min: 4096, max: 4096 });
    expect(formatSpread(s.durationMs, formatMs)).toBe('755 ms (700 ms–820 ms)');
    expect(formatSpread(s.stallP99Ms, formatMs)).toBe('50 µs');
  });
});

describe('describeSystemError', () => {
  it('names the path and says what went wrong in words, without the raw code text', () => {
    const error = Object.assign(new Error("EACCES: permission denied, open 'out/x.raw'"), { code: 'EACCES', syscall: 'open', path: 'out/x.raw' });
    expect(describeSystemError(error)).toBe('"out/x.raw": permission denied (open)');
    const noPath = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    expect(describeSystemError(noPath)).toBe('write failed: no space left on the device');
    const rename = Object.assign(new Error('EXDEV'), { code: 'EXDEV', syscall: 'rename', path: 'a', dest: 'b' });
    expect(describeSystemError(rename)).toBe('"b": EXDEV (rename)');
  });

  it('leaves errors that are not system errors alone', () => {
    expect(describeSystemError(new Error('plain'))).toBeUndefined();
    expect(describeSystemError(Object.assign(new Error('x'), { code: 'bgsnap.usage' }))).toBeUndefined();
    expect(describeSystemError('text')).toBeUndefined();
  });
});
