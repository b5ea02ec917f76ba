import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSink, PagedMemory, restore, snapshot, ThrottledSink } from '../../src';
import { tempDir } from '../storage/support';
import { run, startWriters } from './support';
import { logBlocks, replay, type LogShape } from './workers/writeLog';

/**
 * Writer threads at full speed while a full snapshot and then incremental
 * ones are written to files: every prefix of the chain, restored, is the
 * writers' logs replayed up to its last link's cut.
 */
const dir = tempDir('thread-chain');
let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
});

const LINKS = 5;

describe.each(['queue', 'copy'] as const)('a chain under writer threads, %s', (strategy) => {
  it('every prefix restores to the logs replayed up to its cut', async () => {
    // Writes fall on a few of the pages between snapshots: most of each incremental is clean.
    const shape: LogShape = { seed: 91 + strategy.length, writers: 2, pageSize: 4096, sharedPages: 8192, ownPages: 1024 };
    const memory = new PagedMemory({ blocks: logBlocks(shape) });
    const writers = await startWriters(memory, shape);
    workers = writers.workers;

    const files: string[] = [];
    const cuts: (readonly number[])[] = [];
    for (let i = 0; i < LINKS; i++) {
      const file = dir.file(`${strategy}.${i}.bgsnap`);
      const { started, done } = await run(snapshot(memory, new ThrottledSink(new FileSink(file), { profile: 'nvme' }), { strategy, incremental: true }));
      expect(done.stats.kind).toBe(i === 0 ? 'full' : 'incremental');
      expect(memory.lastCommitted).toEqual(done.stats.identity);
      files.push(file);
      cuts.push(started.cut);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await writers.stop();

    for (let n = 1; n <= LINKS; n++) {
      const target = new PagedMemory({ blocks: logBlocks(shape) });
      await restore(files.slice(0, n), target);
      const atCut = replay(shape, cuts[n - 1] as readonly number[]);
      for (const [name, bytes] of atCut) expect(Buffer.compare(target.block(name).bytes, bytes), `${n} link(s), block ${name}`).toBe(0);
    }
  });
});
