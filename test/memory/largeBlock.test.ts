import { lastValueFrom } from 'rxjs';
import { expect, it } from 'vitest';
import { PagedMemory, snapshot, type PageRun, type Sink, type SinkCallback, type SnapshotHeader } from '../../src';

const PAGE = 4096;
const GiB = 2 ** 30;

/** Keeps nothing but the first byte of each page it is asked about, as saved. */
class ProbeSink implements Sink {
  readonly capacity = 4;
  readonly seen = new Map<number, number>();
  constructor(private readonly pages: readonly number[]) {}
  start(_header: SnapshotHeader): void {}
  write(run: PageRun, done: SinkCallback): void {
    for (const p of this.pages) {
      if (p >= run.page && p < run.page + run.count) this.seen.set(p, run.data[(p - run.page) * PAGE] as number);
    }
    done();
  }
  end(done: SinkCallback): void {
    done();
  }
  abort(): void {}
}

// Pages past 2 GiB in a block sit at byte offsets beyond a signed 32-bit shift.
it.each(['queue', 'copy'] as const)('saves pages past 2 GiB of a block from their own offsets (%s)', async (strategy) => {
  const memory = new PagedMemory({ blocks: [{ name: 'ram', size: 2.5 * GiB }] });
  const high = (2.25 * GiB) / PAGE;
  const low = (0.25 * GiB) / PAGE;
  const faulted = high + 1;
  const bytes = memory.block('ram').bytes;
  bytes[high * PAGE] = 7;
  bytes[low * PAGE] = 9;
  bytes[faulted * PAGE] = 5;
  const sink = new ProbeSink([low, high, faulted]);
  const events$ = snapshot(memory, sink, { strategy });
  const done = lastValueFrom(events$);
  // A fault on a page past 2 GiB: copied (copy) or written from memory (queue).
  const write = memory.write('ram', faulted * PAGE, new Uint8Array([6]));
  await done;
  await write;
  expect(Object.fromEntries(sink.seen)).toEqual({ [low]: 9, [high]: 7, [faulted]: 5 });
  expect(memory.read('ram', faulted * PAGE, 1)).toEqual(new Uint8Array([6]));
});
