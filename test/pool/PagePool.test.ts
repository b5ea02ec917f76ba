import { describe, expect, it } from 'vitest';
import { ForeignBufferError, OptionError, PagePool } from '../../src';

describe('PagePool', () => {
  it('lends at most its size and counts its peak', () => {
    const pool = new PagePool(2, 512);
    const a = pool.acquire();
    const b = pool.acquire();
    expect(a?.length).toBe(512);
    expect(pool.acquire()).toBeUndefined();
    expect(pool.borrowed).toBe(2);
    pool.release(a!);
    expect(pool.available).toBe(1);
    expect(pool.acquire()).toBe(a);
    pool.release(a!);
    pool.release(b!);
    expect(pool.peak).toBe(2);
    expect(pool.borrowed).toBe(0);
  });

  it('refuses a buffer it did not lend, and one returned twice', () => {
    const pool = new PagePool(1, 512);
    expect(() => pool.release(new Uint8Array(512))).toThrowError(ForeignBufferError);
    const a = pool.acquire()!;
    pool.release(a);
    expect(() => pool.release(a)).toThrowError(ForeignBufferError);
  });

  it('refuses a negative size, naming poolPages', () => {
    expect(() => new PagePool(-1, 512)).toThrowError(OptionError);
    expect(() => new PagePool(-1, 512)).toThrowError(/`poolPages`/);
  });

  it('refuses a pool it cannot allocate, naming poolPages and the bytes asked for', () => {
    let error: unknown;
    try {
      new PagePool(1e9, 4096);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe('poolPages');
    expect((error as OptionError).received).toBe(1e9);
    expect((error as OptionError).message).toContain('4096000000000 bytes');
  });

  it('lends every slot of a large pool once, without a view per slot up front', () => {
    const pool = new PagePool(100_000, 512);
    const seen = new Set<number>();
    for (let b = pool.acquire(); b !== undefined; b = pool.acquire()) seen.add(b.byteOffset);
    expect(seen.size).toBe(100_000);
    expect(pool.available).toBe(0);
    expect(pool.peak).toBe(100_000);
  });
});
