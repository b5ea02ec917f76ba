import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  attachMemory,
  MemorySink,
  OptionError,
  OutOfBlockError,
  PagedMemory,
  PageState,
  SaverThreadWriteError,
  snapshot,
  SnapshotInProgressError,
  ThrottledSink,
  TooManyWritersError,
  WriterDetachedError,
} from '../../src';
import { Control } from '../../src/threads/layout';
import { run } from './support';

const PAGE = 4096;
const memoryOf = (pages = 64): PagedMemory => new PagedMemory({ blocks: [{ name: 'ram', size: pages * PAGE }, { name: 'rom', size: PAGE }] });

describe('share() and attachMemory()', () => {
  it('hands out one structured-cloneable handle whose writers write the memory itself', () => {
    const memory = memoryOf();
    const handle = memory.share();
    expect(memory.share()).toBe(handle);
    const writer = attachMemory(structuredClone(handle));
    writer.write('ram', 3 * PAGE + 5, new Uint8Array([1, 2, 3]));
    expect(memory.read('ram', 3 * PAGE + 5, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(writer.read('ram', 3 * PAGE + 4, 5)).toEqual(new Uint8Array([0, 1, 2, 3, 0]));
    expect(writer.writes).toBe(1);
    expect([writer.id, attachMemory(handle).id]).toEqual([0, 1]);
    expect(memory.writerThreads).toBe(2);
  });

  it('names the option that is wrong', () => {
    const bad: [object, string][] = [
      [{ poolBytes: -1 }, 'poolBytes'],
      [{ ringEntries: 3 }, 'ringEntries'],
      [{ safePointTimeoutMs: 0 }, 'safePointTimeoutMs'],
    ];
    for (const [options, option] of bad) {
      expect(() => memoryOf().share(options)).toThrow(expect.objectContaining({ name: 'OptionError', option }));
    }
    expect(() => attachMemory({ kind: 'bgsnap.memory' } as never)).toThrow(OptionError);
    expect(() => attachMemory({ kind: 'bgsnap.memory' } as never)).toThrow(expect.objectContaining({ option: 'handle.version' }));
    const handle = memoryOf().share();
    expect(() => attachMemory({ ...handle, ring: new ArrayBuffer(8) } as never)).toThrow(expect.objectContaining({ option: 'handle.ring' }));
    const memory = memoryOf();
    memory.share({ poolBytes: 8 * PAGE });
    expect(memory.share({ poolBytes: 8 * PAGE })).toBe(memory.share());
    expect(() => memory.share({ poolBytes: 16 * PAGE })).toThrow(expect.objectContaining({ name: 'OptionError', option: 'poolBytes' }));
  });

  it('refuses to share a memory for the first time while a snapshot runs', async () => {
    const memory = memoryOf();
    const events$ = snapshot(memory, new ThrottledSink(new MemorySink(), { profile: 'hdd' }));
    const subscription = events$.subscribe();
    expect(() => memory.share()).toThrow(SnapshotInProgressError);
    subscription.unsubscribe();
    expect(() => memory.share()).not.toThrow();
  });

  it('refuses a second snapshot without touching the running one\'s pool', async () => {
    const memory = memoryOf(256);
    memory.share();
    const sink = new MemorySink({ capacity: 1 });
    const first = lastValueFrom(snapshot(memory, new ThrottledSink(sink, { profile: 'hdd' }), { strategy: 'copy', runBytes: PAGE, maxWriteBytes: PAGE }));
    // Copies in the pool, waiting for storage.
    const writes = [200, 201, 202].map((p) => memory.write('ram', p * PAGE, new Uint8Array([0xee])));
    const borrowed = (): number => Atomics.load(new Int32Array(memory.share().control), Control.PoolBorrowed);
    expect(borrowed()).toBe(3);
    await expect(lastValueFrom(snapshot(memory, new MemorySink(), { strategy: 'queue' }))).rejects.toBeInstanceOf(SnapshotInProgressError);
    expect(borrowed()).toBe(3);
    await first;
    await Promise.all(writes);
    // The copies taken at the faults are what was saved: memory at t0, not the writes.
    for (const p of [200, 201, 202]) expect(sink.image('ram')[p * PAGE]).toBe(0);
    expect(borrowed()).toBe(0);
  });

  it('refuses a pool larger than the one shared, leaving nothing protected', async () => {
    const memory = memoryOf();
    memory.share({ poolBytes: 8 * PAGE });
    await expect(lastValueFrom(snapshot(memory, new MemorySink(), { poolPages: 9 }))).rejects.toMatchObject({ name: 'OptionError', option: 'poolPages' });
    expect(memory.snapshotting).toBe(false);
    await expect(lastValueFrom(snapshot(memory, new MemorySink(), { poolPages: 8 }))).resolves.toMatchObject({ type: 'done' });
  });

  it('checks ranges, and refuses writes after detach', () => {
    const memory = memoryOf();
    const writer = attachMemory(memory.share());
    expect(() => writer.write('ram', 64 * PAGE - 1, new Uint8Array(2))).toThrow(OutOfBlockError);
    expect(() => writer.write('nope', 0, new Uint8Array(1))).toThrow(/No block named "nope"/);
    expect(() => writer.write('ram', -1, new Uint8Array(1))).toThrow(OutOfBlockError);
    expect(() => writer.read('rom', 0, PAGE + 1)).toThrow(OutOfBlockError);
    expect(writer.writes).toBe(0);
    writer.write('rom', 0, new Uint8Array(0));
    expect(writer.writes).toBe(1);
    writer.detach();
    writer.detach();
    expect(() => writer.write('ram', 0, new Uint8Array(1))).toThrow(WriterDetachedError);
  });

  it('counts writes past 2^31 into the cut', async () => {
    const memory = memoryOf(4);
    const writer = attachMemory(memory.share());
    // As if the writer had completed 2^31 - 2 writes already: its count word is about to wrap.
    (writer as unknown as { seq: number }).seq = 2 ** 32 - 4;
    for (let i = 0; i < 4; i++) writer.write('ram', i * PAGE, new Uint8Array([i]));
    expect(writer.writes).toBe(2 ** 31 + 2);
    expect((await run(snapshot(memory, new MemorySink()))).started.cut).toEqual([2 ** 31 + 2]);
    writer.write('ram', 0, new Uint8Array([9]));
    expect((await run(snapshot(memory, new MemorySink()))).started.cut).toEqual([2 ** 31 + 3]);
  });

  it('refuses a block over 4 GiB, naming it', () => {
    expect(() => new PagedMemory({ blocks: [{ name: 'a', size: PAGE }, { name: 'b', size: 2 ** 32 + PAGE }] })).toThrow(
      expect.objectContaining({ name: 'OptionError', option: 'blocks[1].size' }),
    );
  });

  it('takes at most 256 writers over a memory\'s life', () => {
    const handle = memoryOf(1).share();
    for (let i = 0; i < 256; i++) attachMemory(handle).detach();
    expect(() => attachMemory(handle)).toThrow(TooManyWritersError);
  });

  it('refuses, on the thread running the snapshot, a write that would wait for it', async () => {
    const memory = memoryOf(256);
    const writer = attachMemory(memory.share());
    const events$ = snapshot(memory, new ThrottledSink(new MemorySink({ capacity: 1 }), { profile: 'hdd' }), { strategy: 'queue', maxWriteBytes: PAGE });
    const subscription = events$.subscribe();
    expect(memory.states[255]).toBe(PageState.Protected);
    expect(() => writer.write('ram', 255 * PAGE, new Uint8Array([1]))).toThrow(SaverThreadWriteError);
    expect(writer.writes).toBe(0);
    expect(memory.read('ram', 255 * PAGE, 1)).toEqual(new Uint8Array([0]));
    subscription.unsubscribe();
    writer.write('ram', 255 * PAGE, new Uint8Array([1]));
    expect(memory.read('ram', 255 * PAGE, 1)).toEqual(new Uint8Array([1]));
  });

  it('gives a writer attached during the safe point a cut of 0: none of its writes is in the image', async () => {
    const memory = memoryOf(64);
    const handle = memory.share();
    const first = attachMemory(handle);
    first.write('ram', 0, new Uint8Array([1]));
    let late: ReturnType<typeof attachMemory> | undefined;
    // After the count, before t0: a writer attaches.
    memory.setSafePointHook((step) => {
      if (step === 'counted' && late === undefined) late = attachMemory(handle);
    });
    const { started } = await run(snapshot(memory, new MemorySink()));
    memory.setSafePointHook(undefined);
    expect(late?.id).toBe(1);
    expect(started.cut).toEqual([1, 0]);
    first.detach();
    late?.detach();
  });
});
