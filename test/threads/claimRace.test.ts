import { isProtected } from '../../src/memory/contract';
import type { Worker } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { MemorySink, PagedMemory, PageState, snapshot, ThrottledSink, type PageRun, type Sink, type SinkCallback, type SnapshotHeader, type WriterFaults } from '../../src';
import { nextMessage, startWorker } from '../support/workers';
import { run } from './support';
import { logBlocks, replay, type LogShape } from './workers/writeLog';

const WRITER = require.resolve('./workers/randomWrites.ts');

/** Passes everything to `inner` and counts how often each global page is saved. */
class CountingSink implements Sink {
  readonly capacity: number;
  saves = new Uint8Array(0);
  private firstPages: number[] = [];
  constructor(private readonly inner: Sink) {
    this.capacity = inner.capacity;
  }
  start(header: SnapshotHeader): void {
    this.saves = new Uint8Array(header.blocks.reduce((n, b) => n + b.pages, 0));
    this.firstPages = header.blocks.map((b) => b.firstPage);
    this.inner.start(header);
  }
  write(run: PageRun, done: SinkCallback): void {
    const first = (this.firstPages[run.block] as number) + run.page;
    for (let p = first; p < first + run.count; p++) this.saves[p] = (this.saves[p] ?? 0) + 1;
    this.inner.write(run, done);
  }
  end(done: SinkCallback): void {
    this.inner.end(done);
  }
  abort(reason: unknown): void | PromiseLike<void> {
    return this.inner.abort(reason);
  }
}

let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
});

// Four writers fault on the same four pages over and over (the last pages the bulk
// pass reaches), with one pool slot and then four: writers race each other and the
// saver for the slots and for each page.
it.each([
  [1, 1],
  [2, 1],
  [3, 4],
  [4, 4],
])('claim race, round %i, pool of %i: every page saved exactly once, the image is the cut', async (round, poolPages) => {
  const shape: LogShape = { seed: 1000 + round, writers: 4, pageSize: 4096, sharedPages: 4, ownPages: 256 };
  const memory = new PagedMemory({ blocks: logBlocks(shape) });
  const handle = memory.share();
  const flags = new Int32Array(new SharedArrayBuffer(8));
  workers = Array.from({ length: shape.writers }, () => startWorker(WRITER, { handle, shape, flags: flags.buffer }));
  await Promise.all(workers.map((w) => nextMessage(w)));
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  await new Promise((resolve) => setTimeout(resolve, 20));

  const image = new MemorySink();
  const sink = new CountingSink(new ThrottledSink(image, { profile: 'hdd' }));
  const { started, done } = await run(snapshot(memory, sink, { strategy: 'copy', poolPages }));
  const finished = workers.map((w) => nextMessage<{ writes: number; faults: WriterFaults }>(w));
  Atomics.store(flags, 1, 1);
  const writers = await Promise.all(finished);

  expect(Array.from(sink.saves).every((n) => n === 1)).toBe(true);
  expect(done.stats.saved.bulk + done.stats.saved.fault + done.stats.saved.copy).toBe(memory.pageCount);
  expect(done.stats.pool.peakPages).toBeLessThanOrEqual(poolPages);
  for (const [name, bytes] of replay(shape, started.cut)) expect(Buffer.compare(image.image(name), bytes), name).toBe(0);
  // The race happened: writers copied pages themselves and also waited for the saver.
  expect(writers.reduce((n, w) => n + w.faults.selfCopied, 0)).toBeGreaterThan(0);
  expect(writers.reduce((n, w) => n + w.faults.count - w.faults.selfCopied, 0)).toBeGreaterThan(0);
  expect(!memory.states.some(isProtected)).toBe(true);
});
