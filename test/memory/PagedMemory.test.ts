import { describe, expect, it } from 'vitest';
import { OptionError, OutOfBlockError, PagedMemory, SnapshotInProgressError } from '../../src';

const twoBlocks = () =>
  new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 4 * 512 }, { name: 'vram', size: 2 * 512 }] });

describe('PagedMemory', () => {
  it('lays blocks out with their page counts', () => {
    const memory = twoBlocks();
    expect(memory.pageSize).toBe(512);
    expect(memory.pageCount).toBe(6);
    expect(memory.blocks.map(({ name, size, pages, firstPage }) => ({ name, size, pages, firstPage }))).toEqual([
      { name: 'ram', size: 2048, pages: 4, firstPage: 0 },
      { name: 'vram', size: 1024, pages: 2, firstPage: 4 },
    ]);
    expect(memory.block('ram').bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(memory.states.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('defaults to 4 KiB pages', () => {
    expect(new PagedMemory({ blocks: [{ name: 'a', size: 8192 }] }).pageSize).toBe(4096);
  });

  it.each([
    [{ pageSize: 1000, blocks: [{ name: 'a', size: 1000 }] }, 'pageSize'],
    [{ pageSize: 256, blocks: [{ name: 'a', size: 256 }] }, 'pageSize'],
    [{ pageSize: 4 << 20, blocks: [{ name: 'a', size: 4 << 20 }] }, 'pageSize'],
    [{ blocks: [] }, 'blocks'],
    [{ blocks: [{ name: '', size: 4096 }] }, 'blocks[0].name'],
    [{ blocks: [{ name: 'a', size: 4096 }, { name: 'a', size: 4096 }] }, 'blocks[1].name'],
    [{ blocks: [{ name: 'a', size: 4097 }] }, 'blocks[0].size'],
    [{ blocks: [{ name: 'a', size: 0 }] }, 'blocks[0].size'],
  ])('refuses bad geometry %j naming `%s`', (options, option) => {
    let error: unknown;
    try {
      new PagedMemory(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe(option);
    expect((error as Error).message).toContain(`\`${option}\``);
  });

  it('reads a copy and writes synchronously when nothing is protected', () => {
    const memory = twoBlocks();
    const pending = memory.write('vram', 510, new Uint8Array([1, 2, 3, 4]));
    expect(memory.read('vram', 510, 4)).toEqual(new Uint8Array([1, 2, 3, 4]));
    const copy = memory.read('vram', 510, 4);
    copy[0] = 9;
    expect(memory.read('vram', 510, 1)[0]).toBe(1);
    return pending;
  });

  it.each([
    ['ram', -1, 1],
    ['ram', 2047, 2],
    ['vram', 1024, 1],
    ['rom', 0, 1],
  ])('refuses %s at offset %i length %i with a RangeError naming them, writing nothing', (block, offset, length) => {
    const memory = twoBlocks();
    const before = memory.read('ram', 0, 2048);
    expect(() => memory.write(block, offset, new Uint8Array(length).fill(7))).toThrowError(RangeError);
    expect(() => memory.read(block, offset, length)).toThrowError(OutOfBlockError);
    try {
      memory.write(block, offset, new Uint8Array(length));
    } catch (e) {
      expect((e as Error).message).toContain(JSON.stringify(block));
      expect((e as Error).message).toContain(`offset ${offset}`);
      expect((e as Error).message).toContain(`length ${length}`);
    }
    expect(memory.read('ram', 0, 2048)).toEqual(before);
  });

  it('holds a write across pages until every protected page it touches is unprotected, then applies it at once', async () => {
    const memory = twoBlocks();
    const faults: number[] = [];
    const session = memory.protect((page) => faults.push(page));
    session.unprotect(1, 1);
    let applied = false;
    const pending = memory.write('ram', 500, new Uint8Array(1000).fill(5)).then(() => (applied = true));
    // Pages 0, 1, 2 are touched; 1 is writable, so faults are raised for 0 and 2.
    expect(faults).toEqual([0, 2]);
    expect(memory.read('ram', 500, 1)[0]).toBe(0);
    session.unprotect(0, 1);
    expect(memory.read('ram', 600, 1)[0]).toBe(0);
    session.unprotect(2, 1);
    expect(memory.read('ram', 500, 1000).every((b) => b === 5)).toBe(true);
    await pending;
    expect(applied).toBe(true);
    session.close();
  });

  it('lands writes to a page in arrival order, even behind a write that spans a protected page', () => {
    const memory = twoBlocks();
    const session = memory.protect(() => undefined);
    session.unprotect(1, 1);
    // W1 covers pages 0 (protected) and 1 (writable); W2, later, only page 1.
    void memory.write('ram', 500, new Uint8Array(40).fill(0x11));
    void memory.write('ram', 520, new Uint8Array([0x22]));
    expect(memory.read('ram', 520, 1)[0]).toBe(0);
    session.unprotect(0, 1);
    expect(memory.read('ram', 520, 1)[0]).toBe(0x22);
    expect(memory.read('ram', 500, 1)[0]).toBe(0x11);
    session.close();
  });

  it('lands a later single-page write after an earlier write across pages that waits longer', () => {
    const memory = twoBlocks();
    const session = memory.protect(() => undefined);
    // W1 covers pages 0 and 1, both protected; W2, later, only page 0.
    void memory.write('ram', 500, new Uint8Array(40).fill(0x11));
    void memory.write('ram', 505, new Uint8Array([0x22]));
    session.unprotect(0, 1);
    expect(memory.read('ram', 505, 1)[0]).toBe(0);
    session.unprotect(1, 1);
    expect(memory.read('ram', 505, 1)[0]).toBe(0x22);
    expect(memory.read('ram', 500, 1)[0]).toBe(0x11);
    session.close();
  });

  it('copies the data of a faulting write, so the caller may reuse its buffer', () => {
    const memory = twoBlocks();
    const session = memory.protect(() => undefined);
    const data = new Uint8Array([1]);
    void memory.write('ram', 0, data);
    data[0] = 2;
    session.close();
    expect(memory.read('ram', 0, 1)[0]).toBe(1);
  });

  it('reports protection per page and releases everything when the session closes', () => {
    const memory = twoBlocks();
    const session = memory.protect(() => undefined);
    expect(memory.isProtected('vram', 1)).toBe(true);
    expect(() => memory.isProtected('vram', 2)).toThrowError(OutOfBlockError);
    session.close();
    expect(memory.isProtected('vram', 1)).toBe(false);
    session.close();
  });

  it('takes one snapshot session at a time', () => {
    const memory = twoBlocks();
    const session = memory.protect(() => undefined);
    expect(() => memory.protect(() => undefined)).toThrowError(SnapshotInProgressError);
    session.close();
    memory.protect(() => undefined).close();
  });
});
