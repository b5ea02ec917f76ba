import { isProtected } from '../../src/memory/contract';
import { existsSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CutViolationError,
  FileSink,
  MemorySink,
  PagedMemory,
  PageState,
  snapshot,
  ThrottledSink,
  type SnapshotEvent,
} from '../../src';
import { Control, Writer, epochOf, writerWord } from '../../src/threads/layout';
import { tempDir } from '../storage/support';
import { nextMessage } from '../support/workers';
import { blockedOn, run, scriptedWriter, until } from './support';

const PAGE = 4096;
const PAGES = 4096; // 16 MiB: about half a second on the hdd profile
let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
});

function memoryOf(): PagedMemory {
  return new PagedMemory({ blocks: [{ name: 'ram', size: PAGES * PAGE }] });
}

/** A snapshot on hdd-like storage, so it lasts; resolves with its events. */
function slowSnapshot(memory: PagedMemory) {
  const events: SnapshotEvent[] = [];
  const sink = new ThrottledSink(new MemorySink(), { profile: 'hdd' });
  let unsubscribe = (): void => undefined;
  const finished = new Promise<SnapshotEvent[]>((resolve, reject) => {
    const s = snapshot(memory, sink, { strategy: 'queue' }).subscribe({
      next: (e) => events.push(e),
      complete: () => resolve(events),
      error: reject,
    });
    unsubscribe = () => s.unsubscribe();
  });
  return { finished, cancel: () => unsubscribe() };
}

describe('writer threads that fail or idle', () => {
  it('a writer terminated while blocked stops neither this snapshot nor the next', async () => {
    const memory = memoryOf();
    const handle = memory.share({ safePointTimeoutMs: 50 });
    const { worker, id } = await scriptedWriter(handle);
    const snap = slowSnapshot(memory);
    // The last page: the bulk pass reaches it last, so the write stays blocked.
    worker.postMessage({ write: ['ram', (PAGES - 1) * PAGE, 8, 7] });
    await until(() => blockedOn(handle, id) === PAGES - 1);
    await worker.terminate();
    const events = await snap.finished;
    expect(events.at(-1)?.type).toBe('done');
    expect(!memory.states.some(isProtected)).toBe(true);

    // The dead writer is inside a write for ever: the next t0 waits for it once, then counts it gone.
    const next = await run(snapshot(memory, new MemorySink()));
    expect(next.done.stats.t0PauseMs).toBeGreaterThanOrEqual(50);
    expect(next.started.cut).toEqual([0]);
    const after = await run(snapshot(memory, new MemorySink()));
    expect(after.done.stats.t0PauseMs).toBeLessThan(50);
  });

  it('a cancelled snapshot releases the writers it blocked', async () => {
    const memory = memoryOf();
    const handle = memory.share();
    const writers = await Promise.all([scriptedWriter(handle), scriptedWriter(handle)]);
    workers = writers.map((w) => w.worker);
    const snap = slowSnapshot(memory);
    const wrote = writers.map(({ worker }) => nextMessage<{ writes: number }>(worker));
    writers.forEach(({ worker }, i) => worker.postMessage({ write: ['ram', (PAGES - 1 - i) * PAGE, 16, 9] }));
    await until(() => writers.every(({ id }, i) => blockedOn(handle, id) === PAGES - 1 - i));
    snap.cancel();
    expect((await Promise.all(wrote)).map((m) => m.writes)).toEqual([1, 1]);
    expect(memory.read('ram', (PAGES - 2) * PAGE, 16)).toEqual(new Uint8Array(16).fill(9));
    expect(!memory.states.some(isProtected)).toBe(true);
    expect(memory.snapshotting).toBe(false);
  });

  it('a cancelled snapshot releases a writer waiting for room in a full fault ring', async () => {
    const memory = memoryOf();
    const handle = memory.share({ ringEntries: 1 });
    const { worker } = await scriptedWriter(handle);
    workers = [worker];
    const events$ = snapshot(memory, new ThrottledSink(new MemorySink({ capacity: 1 }), { profile: 'hdd' }), { strategy: 'copy' });
    const subscription = events$.subscribe();
    const wrote = nextMessage<{ writes: number; faults: { selfCopied: number } }>(worker);
    worker.postMessage({ writes: [['ram', (PAGES - 2) * PAGE, 8, 1], ['ram', (PAGES - 1) * PAGE, 8, 2]] });
    // The saver's event loop does not run: the ring is never drained, so the second copy
    // finds it full and waits for room.
    const until = Date.now() + 300;
    while (Date.now() < until);
    // The first copy filled the ring; the second waits for room before claiming its page.
    expect(memory.states[PAGES - 2]).toBe(PageState.Writable);
    expect(memory.states[PAGES - 1]).toBe(PageState.Protected);
    subscription.unsubscribe();
    // The next snapshot, at once: its pool is reset while the writer still waits; it neither
    // waits long for that writer nor loses a page or a pool slot to it.
    const nextRun = run(snapshot(memory, new MemorySink()));
    expect((await wrote).writes).toBe(2);
    const next = await nextRun;
    expect(next.done.stats.t0PauseMs).toBeLessThan(500);
    expect(next.started.cut).toEqual([2]);
    // The slot of the copy never drained went with the old pool; the pool's count is exact.
    expect(Atomics.load(new Int32Array(handle.control), Control.PoolBorrowed)).toBe(0);
  });

  it('a writer outside write does not hold t0, and one that exited without detaching neither', async () => {
    const memory = memoryOf();
    const handle = memory.share({ safePointTimeoutMs: 5000 });
    const idle = await scriptedWriter(handle);
    const gone = await scriptedWriter(handle);
    workers = [idle.worker, gone.worker];
    idle.worker.postMessage({ writes: [['ram', 0, 8, 1], ['ram', PAGE, 8, 2]] });
    await nextMessage(idle.worker);
    gone.worker.postMessage({ writes: [['ram', 2 * PAGE, 8, 3], ['ram', 3 * PAGE, 8, 4], ['ram', 4 * PAGE, 8, 5]] });
    await nextMessage(gone.worker);
    const exited = new Promise((resolve) => gone.worker.once('exit', resolve));
    gone.worker.postMessage({ exit: true });
    await exited;

    const sink = new MemorySink();
    const { started, done } = await run(snapshot(memory, sink));
    expect(started.cut).toEqual([2, 3]);
    expect(done.stats.t0PauseMs).toBeLessThan(1000);
    expect(sink.image('ram').subarray(4 * PAGE, 4 * PAGE + 8)).toEqual(new Uint8Array(8).fill(5));

    // The idle writer writes on afterwards.
    idle.worker.postMessage({ write: ['ram', 5 * PAGE, 8, 6] });
    expect((await nextMessage<{ writes: number }>(idle.worker)).writes).toBe(3);
  });

  it('a writer that completed a write the safe point did not see fails the snapshot before its file is committed', async () => {
    const memory = memoryOf();
    const handle = memory.share();
    const { worker, id } = await scriptedWriter(handle);
    workers = [worker];
    worker.postMessage({ write: ['ram', 0, 8, 1] });
    await nextMessage(worker);
    const dir = tempDir('cut');
    try {
      const path = dir.file('image.bgsnap');
      const events$ = snapshot(memory, new FileSink(path));
      let error: unknown;
      const done = lastValueFrom(events$).catch((e: unknown) => (error = e));
      // As if the writer had completed one more write without seeing the epoch (the race
      // the check exists for): bump its count the way its fast path does.
      const control = new Int32Array(handle.control);
      control[writerWord(id, Writer.Seq)] = (control[writerWord(id, Writer.Seq)] as number) + 2;
      await done;
      expect(error).toBeInstanceOf(CutViolationError);
      expect(error).toMatchObject({ writer: id, cut: 1, completed: 2 });
      expect(existsSync(path)).toBe(false);
      expect(!memory.states.some(isProtected)).toBe(true);
    } finally {
      dir.remove();
    }
  });

  it('a writer inside a write it has not acknowledged is waited for: acknowledged with its cut, the snapshot is done; never, it fails', async () => {
    const memory = memoryOf();
    const handle = memory.share({ safePointTimeoutMs: 100 });
    const { worker, id } = await scriptedWriter(handle);
    workers = [worker];
    worker.postMessage({ write: ['ram', 0, 8, 1] });
    await nextMessage(worker);
    const control = new Int32Array(handle.control);
    const seq = writerWord(id, Writer.Seq);
    // As if the writer were inside its second write, begun before it saw the epoch, and
    // stayed there: its bytes may be in the image already, and nothing says otherwise.
    const inside = lastValueFrom(snapshot(memory, new MemorySink())).catch((e: unknown) => e);
    control[seq] = 3;
    expect(await inside).toMatchObject({ name: 'CutViolationError', writer: id, cut: 1, completed: 2 });
    control[seq] = 2;
    // The same write, acknowledged with the count it was given: it had set no byte before
    // its acknowledgement, so the image holds to the cut.
    const acknowledged = run(snapshot(memory, new MemorySink()));
    control[seq] = 3;
    Atomics.store(control, writerWord(id, Writer.AckWrites), 1);
    Atomics.store(control, writerWord(id, Writer.AckEpoch), epochOf(Atomics.load(control, Control.Epoch)));
    expect((await acknowledged).started.cut).toEqual([1]);
    control[seq] = 2;
  });
});
