import { describe, expect, it } from 'vitest';
import { lastValueFrom, queueScheduler } from 'rxjs';
import { LoadAbortedError, PagedMemory, PageNotLoadedError, PageState, RestoreInProgressError, restoreLive, SnapshotInProgressError } from '../../src';
import { numberedSource } from '../support/ArraySource';

const PAGE = 4096;

function setUp() {
  const memory = new PagedMemory({ blocks: [{ name: 'a', size: 4 * PAGE }, { name: 'b', size: 4 * PAGE }] });
  const faults: number[] = [];
  const load = memory.beginLoad((page) => faults.push(page));
  return { memory, faults, load };
}

describe('PagedMemory load session, in process', () => {
  it('marks every page absent, synchronously, and is exclusive with snapshots and other loads', () => {
    const { memory, load } = setUp();
    expect(memory.states.every((s) => s === PageState.Absent)).toBe(true);
    expect(memory.loading).toBe(true);
    expect(() => memory.beginLoad(() => {})).toThrow(RestoreInProgressError);
    expect(() => memory.protect(() => {})).toThrow(RestoreInProgressError);
    expect(() => memory.forgetSnapshots()).toThrow(RestoreInProgressError);
    load.close({ reason: 'cancelled' });
    const other = new PagedMemory({ blocks: [{ name: 'a', size: PAGE }] });
    other.protect(() => {});
    expect(() => other.beginLoad(() => {})).toThrow(SnapshotInProgressError);
  });

  it('read throws PageNotLoadedError on a page not loaded; readAsync and write wait, faulting once per page', async () => {
    const { memory, faults, load } = setUp();
    expect(() => memory.read('b', PAGE, 1)).toThrow(PageNotLoadedError);
    const order: string[] = [];
    const write = memory.write('b', PAGE + 1, Uint8Array.of(5)).then(() => order.push('write'));
    const read = memory.readAsync('b', PAGE, 3).then((bytes) => (order.push('read'), [...bytes]));
    expect(faults).toEqual([5, 5]);
    load.view(5, 1).fill(2);
    load.loaded(5, 1);
    expect(await read).toEqual([2, 5, 2]);
    await write;
    expect(order).toEqual(['write', 'read']);
    expect(memory.read('b', PAGE, 2)).toEqual(Uint8Array.of(2, 5));
    // A read across a loaded and an absent page waits for the absent one only.
    const across = memory.readAsync('b', PAGE, 2 * PAGE);
    expect(faults).toEqual([5, 5, 6]);
    load.loaded(6, 1);
    expect((await across).length).toBe(2 * PAGE);
  });

  it('a write spanning pages waits for all of them; writes behind it keep their order', async () => {
    const { memory, load } = setUp();
    load.loaded(0, 1);
    const first = memory.write('a', PAGE - 1, Uint8Array.of(1, 1));
    const second = memory.write('a', PAGE - 1, Uint8Array.of(2));
    load.loaded(1, 1);
    await Promise.all([first, second]);
    expect(memory.read('a', PAGE - 1, 2)).toEqual(Uint8Array.of(2, 1));
  });

  it('closed with pages absent: waiting reads and writes fail with LoadAbortedError, and so do later ones', async () => {
    const { memory, load } = setUp();
    load.loaded(0, 4);
    const write = memory.write('b', 0, Uint8Array.of(1));
    const read = memory.readAsync('b', 2 * PAGE, 1);
    const behind = memory.write('b', 0, Uint8Array.of(2)); // waits behind the failed write on the same page
    const elsewhere = memory.write('a', 0, Uint8Array.of(3));
    const cause = new Error('bad record');
    load.close({ reason: 'failed', cause });
    await expect(write).rejects.toMatchObject({ name: 'LoadAbortedError', reason: 'failed', block: 'b', offset: 0, cause });
    await expect(read).rejects.toBeInstanceOf(LoadAbortedError);
    await expect(behind).rejects.toBeInstanceOf(LoadAbortedError);
    await elsewhere;
    expect(() => memory.read('b', 0, 1)).toThrow(LoadAbortedError);
    await expect(memory.write('b', 0, Uint8Array.of(1))).rejects.toBeInstanceOf(LoadAbortedError);
    expect(() => memory.protect(() => {})).toThrow(LoadAbortedError);
    expect(memory.read('a', 0, 1)).toEqual(Uint8Array.of(3));
    memory.forgetSnapshots();
    expect(memory.read('b', 0, 1).length).toBe(1);
  });

  it('closed with every page loaded: every page is written, no committed snapshot', () => {
    const { memory, load } = setUp();
    load.loaded(0, 8);
    load.close();
    expect(memory.loading).toBe(false);
    expect(memory.states.every((s) => s === PageState.Writable)).toBe(true);
    expect(memory.lastCommitted).toBeUndefined();
    memory.protect(() => {}).close();
  });
});

describe('restoreLive on a memory that is busy', () => {
  it('fails with the memory\'s error, memory untouched, when a snapshot or another load holds it', async () => {
    const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 4 * 512 }] });
    const session = memory.protect(() => {});
    await expect(lastValueFrom(restoreLive(numberedSource(4, queueScheduler), memory, { scheduler: queueScheduler }))).rejects.toBeInstanceOf(SnapshotInProgressError);
    session.close();
    const load = memory.beginLoad(() => {});
    await expect(lastValueFrom(restoreLive(numberedSource(4, queueScheduler), memory, { scheduler: queueScheduler }))).rejects.toBeInstanceOf(RestoreInProgressError);
    load.close({ reason: 'cancelled' });
  });
});
