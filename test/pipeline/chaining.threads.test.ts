import { isProtected } from '../../src/memory/contract';
// Rule: with writer threads writing at full speed, each next snapshot can
// start inside the previous one's `done` handler: the session is closed (every
// page writable, `snapshotting` false) by then, under both strategies, and
// each image is the writers' logs replayed to its own cut.
import type { Worker } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { MemorySink, PagedMemory, snapshot, ThrottledSink, type SnapshotEvent } from '../../src';
import { startWriters } from '../threads/support';
import { LogReplay, logBlocks, type LogShape } from '../threads/workers/writeLog';

let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
});

it('starts each next snapshot inside the done handler while two writer threads write; each image is its cut', async () => {
  const shape: LogShape = { seed: 7, writers: 2, pageSize: 4096, sharedPages: 1024, ownPages: 256 };
  const memory = new PagedMemory({ blocks: logBlocks(shape) });
  const writers = await startWriters(memory, shape);
  workers = writers.workers;

  const rounds: { cut: readonly number[]; sink: MemorySink; released: boolean; faults: number }[] = [];
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      const sink = new MemorySink();
      let cut: readonly number[] = [];
      // ssd pace: each snapshot takes some milliseconds, so the writers fault.
      snapshot(memory, new ThrottledSink(sink, { profile: 'ssd' }), { strategy: rounds.length % 2 === 0 ? 'copy' : 'queue' }).subscribe({
        next: (e: SnapshotEvent) => {
          if (e.type === 'started') cut = e.cut;
          if (e.type !== 'done') return;
          rounds.push({ cut, sink, faults: e.stats.faults, released: !memory.snapshotting && !memory.states.some(isProtected) });
          if (rounds.length < 4) next();
          else resolve();
        },
        error: reject,
      });
    };
    next();
  });
  await writers.stop();

  const replay = new LogReplay(shape);
  let previous = -1;
  for (const round of rounds) {
    expect(round.released).toBe(true);
    // The writers were under way: each cut is past the one before.
    const total = round.cut.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(previous);
    previous = total;
    replay.advance(round.cut);
    for (const [name, bytes] of replay.blocks) expect(Buffer.compare(round.sink.image(name), bytes), `image of ${name}`).toBe(0);
  }
  expect(rounds.some((r) => r.faults > 0)).toBe(true);
});
