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
});
