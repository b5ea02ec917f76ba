import { isProtected } from '../../src/memory/contract';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySink, PagedMemory, PageState, snapshot, ThrottledSink, type SnapshotEvent } from '../../src';
import { startWriters } from './support';
import { logBlocks, replay, type LogShape } from './workers/writeLog';
import type { Worker } from 'node:worker_threads';

let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
});

describe.each(['queue', 'copy'] as const)('writer threads under %s', (strategy) => {
  it.each([2, 4])('%i writers at full speed: the image is the logs replayed up to the cut', async (writers) => {
    const shape: LogShape = { seed: writers * 31 + strategy.length, writers, pageSize: 4096, sharedPages: 12_288, ownPages: 1024 };
    const memory = new PagedMemory({ blocks: logBlocks(shape) });
    const run = await startWriters(memory, shape);
    workers = run.workers;

    const inner = new MemorySink();
    const events = await lastValueFrom(
      snapshot(memory, new ThrottledSink(inner, { profile: 'ssd' }), { strategy }).pipe(toArray()),
    );
    const finished = await run.stop();

    const started = events.find((e): e is Extract<SnapshotEvent, { type: 'started' }> => e.type === 'started');
    const done = events.find((e): e is Extract<SnapshotEvent, { type: 'done' }> => e.type === 'done');
    expect(started?.cut).toHaveLength(writers);
    expect(done?.stats.cut).toEqual(started?.cut);
    expect(inner.snapshotHeader?.cut).toEqual(started?.cut);
    const cut = started?.cut ?? [];
    // The writers were running: some writes before t0, more after, and faults in between.
    finished.forEach((f, id) => {
      expect(cut[id]).toBeGreaterThan(0);
      expect(f.writes).toBeGreaterThan(cut[id] as number);
    });
    expect(done?.stats.faults).toBeGreaterThan(0);
    expect(done?.stats.t0PauseMs).toBeGreaterThan(0);

    // The image is the logs up to the cut; the memory now is the whole logs.
    const atCut = replay(shape, cut);
    for (const [name, bytes] of atCut) expect(Buffer.compare(inner.image(name), bytes), `image of ${name}`).toBe(0);
    const now = replay(shape, finished.map((f) => f.writes));
    for (const [name, bytes] of now) expect(Buffer.compare(memory.block(name).bytes, bytes), `memory ${name}`).toBe(0);

    // Afterwards: every page writable, nobody blocked.
    expect(!memory.states.some(isProtected)).toBe(true);
    expect(memory.snapshotting).toBe(false);
    if (strategy === 'copy') expect(finished.some((f) => f.faults.selfCopied > 0)).toBe(true);
  });
});
