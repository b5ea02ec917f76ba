import { describe, expect, it } from 'vitest';
import { checkWriteOptions, WriteSize } from '../../src/pipeline/writeSize';

const PAGE = 4096;
const options = (o: Parameters<typeof checkWriteOptions>[0] = {}) => checkWriteOptions(o, PAGE);

describe('the write size', () => {
  it('starts at the sink’s suggested start within the bounds, else at the smallest write', () => {
    expect(new WriteSize(options(), undefined, PAGE).current).toBe(16);
    expect(new WriteSize(options(), { start: 2 << 20, max: 16 << 20 }, PAGE).current).toBe(512);
    expect(new WriteSize(options(), { start: 2 << 20, max: 16 << 20 }, PAGE).maxPages).toBe(4096);
    // Options win over the hint.
    expect(new WriteSize(options({ maxWriteBytes: 1 << 20 }), { start: 2 << 20, max: 16 << 20 }, PAGE).current).toBe(256);
  });

  it('doubles once writes of the size filled the sink and no fault waits; a doubling that did not pay goes back, for good', () => {
    const size = new WriteSize(options(), { max: 1 << 20 }, PAGE, 1, 2);
    // Two writes of 16 pages fill a sink of capacity 2: then it doubles.
    size.completed(16, 1.0, true, false);
    expect(size.current).toBe(16);
    size.completed(16, 1.0, true, false);
    expect(size.current).toBe(32);
    // 32 pages took 1.2× as long: it paid, so 64.
    size.completed(32, 1.2, true, false);
    size.completed(32, 1.2, true, false);
    expect(size.current).toBe(64);
    // 64 pages took 2× as long as 32: bound by bandwidth. Back to 32, and no more growth.
    size.completed(64, 2.4, true, false);
    size.completed(64, 2.4, true, false);
    expect(size.current).toBe(32);
    for (let i = 0; i < 4; i++) size.completed(32, 1.2, true, false);
    expect(size.current).toBe(32);
  });

  it('grows only when no fault waits, and cuts a write made while one waits', () => {
    const size = new WriteSize(options({ minWriteBytes: PAGE }), { max: 1 << 20 }, PAGE, 3, 1);
    expect(size.next(false)).toBe(1);
    // A fault run of 3 pages sets the size of a write made while a fault waits.
    expect(size.next(true)).toBe(3);
    size.completed(1, 1, true, true);
    expect(size.current).toBe(1);
    // The growth it earned happens at the next completion with no fault waiting.
    size.completed(3, 1, true, false);
    expect(size.current).toBe(2);
    // A write that was not full (the pass ran short) is no measure.
    size.completed(2, 1, false, false);
    expect(size.current).toBe(2);
  });

  it.each([
    [{ minWriteBytes: 100 }, 'minWriteBytes'],
    [{ maxWriteBytes: PAGE + 0.5 }, 'maxWriteBytes'],
    [{ minWriteBytes: 2 * PAGE, maxWriteBytes: PAGE }, 'minWriteBytes'],
    [{ bulkShare: 1.5 }, 'bulkShare'],
    [{ bulkShare: Number.NaN }, 'bulkShare'],
    [{ turnMs: 0 }, 'turnMs'],
  ])('refuses %j naming `%s`', (o, option) => {
    expect(() => options(o as never)).toThrowError(expect.objectContaining({ option }));
  });
});
