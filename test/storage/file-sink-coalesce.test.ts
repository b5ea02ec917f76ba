// FileSink turns small runs into large writes (a write starts once its batch
// reaches `writeBytes`, by default 1 MiB), keeps at most `capacity` runs in
// flight, and gives a run's credit back only when the OS write holding it has
// completed.
import * as fs from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { verify } from '../../src/format/verify';
import { snapshot } from '../../src/pipeline/snapshot';
import type { PageRun, SinkCallback } from '../../src/storage/Sink';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, runToEnd, spyFs, tempDir } from './support';

const dir = tempDir('coalesce');
afterAll(() => dir.remove());

it('writes 64 KiB runs as 1 MiB writevs', async () => {
  const path = dir.file('big.snap');
  const io = spyFs();
  const memory = filledMemory(4096, [{ name: 'ram', size: 8 << 20 }], 9, 0);
  // One run per pipeline write, so that the coalescing seen is the sink's own; no turn
  // ends by time (on a loaded machine one could end before a batch holds 1 MiB).
  const outcome = await runToEnd(snapshot(memory, new FileSink(path, { fs: io }), { runBytes: 64 * 1024, maxWriteBytes: 64 * 1024, turnMs: Infinity }));
  expect(outcome.kind).toBe('done');
  if (outcome.kind !== 'done') return;
  expect(outcome.stats.writes).toBe(128);
  const sizes = io.calls
    .filter((c) => c.op === 'writev')
    .map((c) => (c.args[1] as Uint8Array[]).reduce((n, b) => n + b.length, 0));
  // 8 MiB of runs in 8 writes of 1 MiB (plus record headers), then the index (128 entries) and the trailer alone.
  expect(sizes.length).toBe(9);
  for (const size of sizes.slice(0, -1)) expect(size).toBeGreaterThanOrEqual(1 << 20);
  expect(sizes.at(-1)).toBe(16 + 24 * 128 + 4 + 56);
  expect((await verify(path)).ok).toBe(true);
});

it('starts a write once its batch reaches writeBytes: a write can pass it by up to one run', async () => {
  const path = dir.file('threshold.snap');
  const io = spyFs();
  const memory = filledMemory(4096, [{ name: 'ram', size: 256 * 4096 }], 4, 0);
  const writeBytes = 64 * 1024;
  const runBytes = 48 * 1024;
  // One run per pipeline write: the sink's threshold is checked per write it is handed.
  const outcome = await runToEnd(snapshot(memory, new FileSink(path, { fs: io, writeBytes }), { runBytes, maxWriteBytes: runBytes }));
  expect(outcome.kind).toBe('done');
  const sizes = io.calls
    .filter((c) => c.op === 'writev')
    .map((c) => (c.args[1] as Uint8Array[]).reduce((n, b) => n + b.length, 0));
  // A run of 12 data pages is one record: 28 + 12 × 4096 + 4 bytes.
  const runRecord = 28 + runBytes + 4;
  expect(Math.max(...sizes)).toBeGreaterThan(writeBytes);
  for (const size of sizes) expect(size).toBeLessThan(writeBytes + runRecord);
  expect((await verify(path)).ok).toBe(true);
  fs.rmSync(path);
});

it('gives credits back when the OS write completes, not before', async () => {
  const path = dir.file('credits.snap');
  // Holds every writev's completion until the test lets it go.
  const held: (() => void)[] = [];
  const io = spyFs();
  const slow = {
    ...io,
    writev: ((fd: number, buffers: NodeJS.ArrayBufferView[], position: number, cb: (e: NodeJS.ErrnoException | null, n: number) => void) =>
      fs.writev(fd, buffers, position, (error, n) => held.push(() => cb(error, n)))) as unknown as typeof fs.writev,
  };
  const sink = new FileSink(path, { capacity: 4, writeBytes: 16384, fs: slow });
  const memory = filledMemory(4096, [{ name: 'ram', size: 16 * 4096 }], 2, 0);
  sink.start({ pageSize: 4096, blocks: memory.blocks, t0: 0, wallTime: Date.now(), strategy: 'test' });
  const done: number[] = [];
  const run = (page: number): PageRun => ({ block: 0, page, count: 2, via: 'bulk', data: memory.block('ram').bytes.subarray(page * 4096, (page + 2) * 4096) });
  const credit = (i: number): SinkCallback => (error) => {
    expect(error).toBeUndefined();
    done.push(i);
  };
  // Two runs (and the header) fill one 16 KiB write; a third goes out at the end of the turn.
  sink.write(run(0), credit(0));
  sink.write(run(2), credit(1));
  sink.write(run(4), credit(2));
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(done).toEqual([]);
  expect(held.length).toBe(2);
  // The first write (header and runs 0 and 1) completes: exactly its runs' credits come back.
  held.shift()?.();
  expect(done).toEqual([0, 1]);
  held.shift()?.();
  expect(done).toEqual([0, 1, 2]);
  sink.abort(new Error('test over'));
  await sink.whenClosed();
  expect(fs.readdirSync(dir.path)).toEqual(['big.snap']);
});
