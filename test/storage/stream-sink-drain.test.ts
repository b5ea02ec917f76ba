// StreamSink honours write() and 'drain': once the writable says it is full,
// nothing more is written until it drains. Credits come back on write
// callbacks, not when write() accepts a chunk, so runs in flight never pass
// the sink's capacity.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { snapshot } from '../../src/pipeline/snapshot';
import type { PageRun, SinkCallback } from '../../src/storage/Sink';
import { StreamSink } from '../../src/storage/StreamSink';
import { filledMemory, runToEnd } from './support';

/** A writable that takes a while per chunk and checks that no one writes while it is full. */
function slowWritable(highWaterMark: number): { writable: Writable; violations: number; chunks: number; bytes: number } {
  const stats = { writable: undefined as unknown as Writable, violations: 0, chunks: 0, bytes: 0 };
  const writable = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      stats.chunks++;
      stats.bytes += chunk.length;
      setTimeout(callback, 0);
    },
  });
  const write = writable.write.bind(writable) as (chunk: unknown, cb?: (error?: Error | null) => void) => boolean;
  writable.write = ((chunk: unknown, cb?: (error?: Error | null) => void) => {
    if (writable.writableNeedDrain) stats.violations++;
    return write(chunk, cb);
  }) as typeof writable.write;
  stats.writable = writable;
  return stats;
}

it('never writes to a full writable and never has more runs in flight than its capacity', async () => {
  const target = slowWritable(8 * 1024);
  const capacity = 3;
  const sink = new StreamSink(target.writable, { capacity });
  // Count runs between the pipeline's write and the sink's callback.
  let inFlight = 0;
  let peak = 0;
  const counted = {
    capacity,
    start: sink.start.bind(sink),
    end: sink.end.bind(sink),
    abort: sink.abort.bind(sink),
    write: (run: PageRun, done: SinkCallback) => {
      peak = Math.max(peak, ++inFlight);
      sink.write(run, (error) => {
        inFlight--;
        done(error);
      });
    },
  };
  const memory = filledMemory(4096, [{ name: 'ram', size: 64 * 4096 }], 4, 0);
  const outcome = await runToEnd(snapshot(memory, counted, { runBytes: 4 * 4096 }));
  expect(outcome.kind).toBe('done');
  expect(target.violations).toBe(0);
  expect(peak).toBe(capacity);
  expect(target.bytes).toBeGreaterThan(64 * 4096);
  expect(target.writable.writableFinished).toBe(true);
});

it('gives a credit back on the write callback, not when write() accepts the chunk', async () => {
  // A writable with room for everything, whose callbacks the test releases.
  const held: (() => void)[] = [];
  const writable = new Writable({
    highWaterMark: 1 << 20,
    write(_chunk, _encoding, callback) {
      held.push(() => callback());
    },
  });
  const sink = new StreamSink(writable, { capacity: 4 });
  const memory = filledMemory(4096, [{ name: 'ram', size: 4 * 4096 }], 5, 0);
  sink.start({ pageSize: 4096, blocks: memory.blocks, t0: 0, wallTime: 0, strategy: 'test' });
  let credits = 0;
  sink.write({ block: 0, page: 0, count: 4, via: 'bulk', data: memory.block('ram').bytes }, () => credits++);
  await new Promise((resolve) => setTimeout(resolve, 10));
  // Accepted (the writable is far from full), but not written: no credit.
  expect(writable.writableLength).toBeGreaterThan(4 * 4096);
  expect(credits).toBe(0);
  // Release the writes one by one: the credit comes with the run's last chunk.
  while (held.length > 0) {
    held.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(credits).toBe(1);
  sink.abort(new Error('test over'));
  await sink.whenClosed();
  expect(writable.destroyed).toBe(true);
});
