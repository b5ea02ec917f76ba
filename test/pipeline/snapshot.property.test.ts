import fc from 'fast-check';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PagedMemory, snapshot, VirtualSink, type SnapshotEvent } from '../../src';
import {
  copyBlocks,
  expectAllUnprotected,
  expectEachPageOnce,
  expectPoolBound,
  expectSameBytes,
} from '../support/invariants';

/** A write issued at a virtual time: mostly within a page, sometimes across up to three. */
const writeArb = fc.record({
  at: fc.integer({ min: 0, max: 80 }),
  block: fc.nat(),
  // Few pages, so that writes meet on them while some are saved and some are not.
  page: fc.nat({ max: 3 }),
  offset: fc.nat(),
  length: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 3 * 4096 })),
  value: fc.integer({ min: 0, max: 255 }),
});

const scenarioArb = fc.record({
  pageSize: fc.constantFrom(512, 1024, 4096),
  blockPages: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 4 }),
  strategy: fc.constantFrom('queue' as const, 'copy' as const),
  capacity: fc.integer({ min: 1, max: 4 }),
  poolPages: fc.integer({ min: 0, max: 4 }),
  runPages: fc.integer({ min: 1, max: 4 }),
  faultRunPages: fc.integer({ min: 1, max: 4 }),
  latencies: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 8 }),
  writes: fc.array(writeArb, { maxLength: 40 }),
  cancelAt: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

/** Runs one scenario in virtual time; returns what a test needs to judge it. */
async function run(s: Scenario) {
  const scheduler = new VirtualTimeScheduler();
  const memory = new PagedMemory({
    pageSize: s.pageSize,
    blocks: s.blockPages.map((pages, i) => ({ name: `b${i}`, size: pages * s.pageSize })),
  });
  memory.blocks.forEach((b, i) => b.bytes.forEach((_, j) => (b.bytes[j] = (j * 31 + i * 7 + 1) & 0xff)));
  const atT0 = copyBlocks(memory);

  // The model: writes land in the order they were issued (per page, and each write whole).
  const model = copyBlocks(memory);
  let resolved = 0;
  const sorted = s.writes
    .map((w, i) => ({ ...w, i }))
    .sort((a, b) => a.at - b.at || a.i - b.i);
  for (const w of sorted) {
    const block = memory.blocks[w.block % memory.blocks.length]!;
    const page = w.page % block.pages;
    const offset = page * s.pageSize + (w.offset % s.pageSize);
    const length = Math.min(w.length, block.size - offset);
    const data = new Uint8Array(length).fill(w.value);
    model.get(block.name)!.set(data, offset);
    scheduler.schedule(() => void memory.write(block.name, offset, data).then(() => resolved++), w.at);
  }

  const sink = new VirtualSink({
    scheduler,
    capacity: s.capacity,
    latency: (() => {
      let n = 0;
      return () => s.latencies[n++ % s.latencies.length]!;
    })(),
  });
  const events: SnapshotEvent[] = [];
  let error: unknown;
  const subscription = snapshot(memory, sink, {
    strategy: s.strategy,
    poolPages: s.poolPages,
    runBytes: s.runPages * s.pageSize,
    faultRunBytes: s.faultRunPages * s.pageSize,
    detail: true,
    scheduler,
  }).subscribe({ next: (e) => events.push(e), error: (e: unknown) => (error = e) });
  if (s.cancelAt !== undefined) scheduler.schedule(() => subscription.unsubscribe(), s.cancelAt);
  scheduler.flush();
  await new Promise((r) => setImmediate(r));
  return { memory, sink, events, error, atT0, model, resolved, writes: s.writes.length };
}

describe('snapshot properties', () => {
  it('keeps every invariant, done or cancelled', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, check), { numRuns: 300 });
  });
});

async function check(s: Scenario): Promise<void> {
  const r = await run(s);
  expect(r.error).toBeUndefined();

  // Always: nothing left protected, no write left waiting, every write in memory.
  expectAllUnprotected(r.memory);
  expect(r.resolved).toBe(r.writes);
  expectSameBytes((name) => r.memory.block(name).bytes, r.model);
  expectPoolBound(r.events, s.strategy === 'copy' ? s.poolPages : 0);
  expect(r.sink.maxInFlight).toBeLessThanOrEqual(s.capacity);

  const done = r.events.find((e) => e.type === 'done');
  if (done?.type !== 'done') {
    // Cancelled before the end: the sink was aborted, and that is all.
    expect(s.cancelAt).toBeDefined();
    expect(r.sink.state).toBe('aborted');
    return;
  }
  // Done: the image is memory at t0, each page saved exactly once.
  expectSameBytes((name) => r.sink.image(name), r.atT0);
  expectEachPageOnce(r.memory, r.sink.log);
  const { bulk, fault, copy } = done.stats.saved;
  expect(bulk + fault + copy).toBe(r.memory.pageCount);
  expect(r.sink.state).toBe('ended');
  expect(r.events[r.events.length - 1]).toBe(done);
}
