import { describe, expect, it } from 'vitest';
import { GeometryMemory, OptionError, PageState, SnapshotInProgressError } from '../../src';

const memoryOf = (pages: number) => new GeometryMemory({ pageSize: 4096, blocks: [{ name: 'a', size: 2 * 4096 }, { name: 'b', size: (pages - 2) * 4096 }] });

describe('GeometryMemory', () => {
  it('lays out blocks like PagedMemory and keeps one state byte per page, no bytes', () => {
    const memory = memoryOf(6);
    expect(memory.pageCount).toBe(6);
    expect(memory.blocks.map((b) => [b.name, b.firstPage, b.pages])).toEqual([['a', 0, 2], ['b', 2, 4]]);
    expect(memory.states).toHaveLength(6);
    const session = memory.protect(() => {});
    expect(session.view(2, 3)).toHaveLength(0);
    const into = new Uint8Array(4096).fill(7);
    session.copy(1, into);
    expect(into.every((b) => b === 7)).toBe(true);
    session.close();
  });

  it('lets a write to a writable page through at once, without calling back', () => {
    const memory = memoryOf(4);
    let released = 0;
    expect(memory.touch(3, () => released++)).toBe(true);
    expect(released).toBe(0);
  });

  it('blocks a write to a protected page, faults once, and releases it at the unprotect', () => {
    const memory = memoryOf(4);
    const faults: number[] = [];
    const session = memory.protect((page) => faults.push(page));
    const order: string[] = [];
    expect(memory.touch(2, () => order.push('w1'))).toBe(false);
    expect(memory.touch(2, () => order.push('w2'))).toBe(false);
    expect(memory.touch(3, () => order.push('w3'))).toBe(false);
    expect(faults).toEqual([2, 2, 3]);
    expect(memory.waiting).toBe(3);
    session.unprotect(0, 3);
    expect(order).toEqual(['w1', 'w2']);
    expect(memory.states[2]).toBe(PageState.Writable);
    expect(memory.states[3]).toBe(PageState.Protected);
    session.close();
    expect(order).toEqual(['w1', 'w2', 'w3']);
    expect(memory.waiting).toBe(0);
    expect(memory.snapshotting).toBe(false);
  });

  it('releases a write at once when serving its fault unprotects the page (a copy)', () => {
    const memory = memoryOf(4);
    let session = memory.protect((page) => session.unprotect(page, 1));
    let released = 0;
    expect(memory.touch(1, () => released++)).toBe(false);
    expect(released).toBe(1);
    session.close();
  });

  it('releases the waiters of a long run page by page', () => {
    const memory = memoryOf(200);
    const session = memory.protect(() => {});
    const order: number[] = [];
    for (const page of [150, 7, 90]) memory.touch(page, () => order.push(page));
    session.unprotect(0, 200);
    expect(order).toEqual([7, 90, 150]);
    session.close();
  });

  it('takes one snapshot at a time and refuses pages it does not have', () => {
    const memory = memoryOf(4);
    const session = memory.protect(() => {});
    expect(() => memory.protect(() => {})).toThrow(SnapshotInProgressError);
    session.close();
    session.close();
    expect(() => memory.protect(() => {}).close()).not.toThrow();
    expect(() => memory.touch(4, () => {})).toThrow(OptionError);
    expect(() => memory.touch(1.5, () => {})).toThrow(/`page`/);
  });

  it('names the option of bad geometry', () => {
    expect(() => new GeometryMemory({ pageSize: 3000, blocks: [{ name: 'a', size: 3000 }] })).toThrow(/`pageSize`/);
    expect(() => new GeometryMemory({ blocks: [{ name: 'a', size: 100 }] })).toThrow(/`blocks\[0\]\.size`/);
  });
});
