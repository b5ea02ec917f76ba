/** The write offsets of `bgsnap run`'s vCPUs, per workload. */
import { describe, expect, it } from 'vitest';
import { HOT_FRACTION, HOT_SHARE, WORKLOADS, WRITE_BYTES, writeStream, type WorkloadShape } from '../../src/cli/run/workload';

const PAGE = 4096;
const PAGES = 1024;
const shape = (workload: WorkloadShape['workload'], vcpu = 0, vcpus = 2, seed = 1): WorkloadShape => ({ workload, pages: PAGES, pageSize: PAGE, vcpus, vcpu, seed });
const take = (s: WorkloadShape, n: number): number[] => {
  const stream = writeStream(s);
  return Array.from({ length: n }, () => stream.next());
};

describe('vCPU workloads', () => {
  it.each(WORKLOADS)('%s: aligned words inside memory, the same for the same seed, other for another vCPU', (workload) => {
    const offsets = take(shape(workload), 20_000);
    expect(offsets.filter((at) => !(at % WRITE_BYTES === 0 && at >= 0 && at + WRITE_BYTES <= PAGES * PAGE))).toEqual([]);
    expect(take(shape(workload), 20_000)).toEqual(offsets);
    expect(take(shape(workload, 1), 100)).not.toEqual(offsets.slice(0, 100));
  });

  it('random: every page about equally often', () => {
    const counts = new Uint32Array(PAGES);
    for (const at of take(shape('random'), PAGES * 100)) {
      const page = Math.floor(at / PAGE);
      counts[page] = (counts[page] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(150);
  });

  it('hotset: 90% of writes, plus their share of the rest, to the first 1/16 of pages', () => {
    const n = 100_000;
    const hot = take(shape('hotset'), n).filter((at) => at < PAGES * HOT_FRACTION * PAGE).length / n;
    expect(hot).toBeCloseTo(HOT_SHARE + (1 - HOT_SHARE) * HOT_FRACTION, 2);
  });

  it('sequential: each vCPU walks its own slice a page at a time, and wraps', () => {
    const pages = (vcpu: number) => take(shape('sequential', vcpu, 3), 2 * 342).map((at) => Math.floor(at / PAGE));
    // 1024 pages over 3 vCPUs: slices of 341, 341 and 342 pages.
    expect(pages(0).slice(0, 342)).toEqual([...Array.from({ length: 341 }, (_, i) => i), 0]);
    expect(pages(1).slice(0, 3)).toEqual([341, 342, 343]);
    expect(pages(2).slice(340, 344)).toEqual([1022, 1023, 682, 683]);
  });
});
