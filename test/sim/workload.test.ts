import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src';
import { randomStreams, type Uniform } from '../../src/sim/random';
import { PageChooser, resolveWorkload } from '../../src/sim/workload';
import { ZipfSampler } from '../../src/sim/zipf';

const stream = (seed = 7): Uniform => randomStreams(seed, 1)[0] as Uniform;

describe('ZipfSampler (rejection-inversion)', () => {
  it('draws ranks with probability ∝ 1/k^s', () => {
    const n = 10;
    const s = 1.2;
    const zipf = new ZipfSampler(n, s);
    const random = stream();
    const counts = new Array<number>(n + 1).fill(0);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) counts[zipf.sample(random)]! += 1;
    const norm = Array.from({ length: n }, (_, i) => (i + 1) ** -s).reduce((a, b) => a + b, 0);
    for (let k = 1; k <= n; k++) expect(Math.abs(counts[k]! / draws - k ** -s / norm)).toBeLessThan(0.005);
    expect(counts[0]).toBe(0);
  });

  it('samples 16M ranks with no table: rank 1 takes 1/H(n) of the draws', () => {
    const n = 2 ** 24;
    const zipf = new ZipfSampler(n, 1);
    const random = stream(3);
    let first = 0;
    const draws = 50_000;
    for (let i = 0; i < draws; i++) {
      const k = zipf.sample(random);
      expect(k >= 1 && k <= n && Number.isInteger(k)).toBe(true);
      if (k === 1) first++;
    }
    const harmonic = Math.log(n) + 0.5772156649 + 1 / (2 * n);
    expect(Math.abs(first / draws - 1 / harmonic)).toBeLessThan(0.005);
  });

  it('refuses an exponent that is not above 0', () => {
    expect(() => new ZipfSampler(10, 0)).toThrow(OptionError);
  });
});

describe('PageChooser', () => {
  it('maps ranks to pages one to one, small and large page counts alike', () => {
    for (const n of [1, 2, 97, 4096, 6000]) {
      const chooser = new PageChooser(n, 4096, resolveWorkload({}, n * 4096), n - 1);
      const pages = new Set(Array.from({ length: n }, (_, r) => chooser.pageOf(r)));
      expect(pages.size).toBe(n);
      expect(Math.min(...pages)).toBe(0);
      expect(Math.max(...pages)).toBe(n - 1);
    }
    // Past 2^26 pages the product no longer fits a double: the split multiplication keeps it exact.
    const n = 2 ** 32 - 5;
    const chooser = new PageChooser(n, 512, resolveWorkload({}, n * 512), 12345);
    for (const r of [0, 1, 2 ** 31 + 17, n - 1]) {
      const exact = (BigInt(chooser.multiplier) * BigInt(r) + 12345n) % BigInt(n);
      expect(chooser.pageOf(r)).toBe(Number(exact));
    }
  });

  it('sends hotShare of the writes to the hot set, scattered over the memory', () => {
    const n = 10_000;
    const chooser = new PageChooser(n, 4096, resolveWorkload({ hotSetBytes: 100 * 4096, hotShare: 0.9 }, n * 4096), 0);
    const hot = new Set(Array.from({ length: 100 }, (_, r) => chooser.pageOf(r)));
    expect(Math.max(...hot) - Math.min(...hot)).toBeGreaterThan(n / 2);
    const random = stream(11);
    let inHot = 0;
    const draws = 20_000;
    for (let i = 0; i < draws; i++) if (hot.has(chooser.pick(random))) inHot++;
    expect(Math.abs(inHot / draws - 0.9)).toBeLessThan(0.01);
  });

  it('names the workload option that is wrong', () => {
    expect(() => resolveWorkload({ writers: -1 }, 4096)).toThrow(/`workload\.writers`/);
    expect(() => resolveWorkload({ writesPerSecond: 0 }, 4096)).toThrow(/`workload\.writesPerSecond`/);
    expect(() => resolveWorkload({ hotSetBytes: 8192 }, 4096)).toThrow(/`workload\.hotSetBytes`/);
    expect(() => resolveWorkload({ hotShare: 1.5 }, 4096)).toThrow(/`workload\.hotShare`/);
    expect(() => resolveWorkload({ distribution: 'pareto' as 'zipf' }, 4096)).toThrow(/`workload\.distribution`/);
    expect(resolveWorkload({ writers: undefined }, 4096).writers).toBe(2);
  });
});
