import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulate, type Sink, type SnapshotEvent } from '../../src';
import { expectAllUnprotected, expectEachPageOnce, expectPoolBound } from '../support/invariants';
import { expectReleasedAfterSave, WatchedMemory, type StoredWrite } from './support/watched';

const scenarioArb = fc.record({
  pageSize: fc.constantFrom(512, 4096),
  blockPages: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }),
  strategy: fc.constantFrom('queue' as const, 'copy' as const),
  poolPages: fc.integer({ min: 0, max: 6 }),
  runPages: fc.integer({ min: 1, max: 8 }),
  turnPages: fc.integer({ min: 1, max: 16 }),
  capacity: fc.integer({ min: 1, max: 4 }),
  storage: fc.record({
    bandwidth: fc.integer({ min: 2e6, max: 2e8 }),
    latency: fc.double({ min: 0, max: 2, noNaN: true }),
    queueDepth: fc.integer({ min: 1, max: 4 }),
  }),
  writers: fc.integer({ min: 0, max: 4 }),
  writesPerSecond: fc.integer({ min: 100, max: 20_000 }),
  hotPages: fc.nat({ max: 200 }),
  hotShare: fc.double({ min: 0, max: 1, noNaN: true }),
  distribution: fc.constantFrom('uniform' as const, 'zipf' as const),
  zipfExponent: fc.double({ min: 0.2, max: 2, noNaN: true }),
  seed: fc.nat(),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

/** What the runs exercised, summed: the property must not pass on idle memories alone. */
const seen = { faults: 0, fault: 0, copy: 0 };

function check(s: Scenario): void {
  const memory = new WatchedMemory({
    pageSize: s.pageSize,
    blocks: s.blockPages.map((pages, i) => ({ name: `b${i}`, size: pages * s.pageSize })),
  });
  const events: SnapshotEvent[] = [];
  // What reached the simulated storage, logged by the storage's side: not the pipeline's events.
  const stored: StoredWrite[] = [];
  const result = simulate(memory, {
    wrapStorage: (device, clock): Sink => {
      memory.clock = clock;
      return {
        capacity: device.capacity,
        start: (header) => device.start(header),
        write: (run, done) =>
          device.write(run, (error) => {
            if (!error) stored.push({ block: run.block, page: run.page, count: run.count, via: run.via, doneAt: clock.now() });
            done(error);
          }),
        end: (done) => device.end(done),
        abort: (reason) => device.abort(reason),
      };
    },
    strategy: s.strategy,
    poolPages: s.poolPages,
    runBytes: s.runPages * s.pageSize,
    turnBytes: s.turnPages * s.pageSize,
    capacity: s.capacity,
    storage: s.storage,
    workload: {
      writers: s.writers,
      writesPerSecond: s.writesPerSecond,
      hotSetBytes: Math.min(s.hotPages, memory.pageCount) * s.pageSize,
      hotShare: s.hotShare,
      distribution: s.distribution,
      zipfExponent: s.zipfExponent,
    },
    seed: s.seed,
    detail: true,
    onEvent: (e) => events.push(e),
  });

  // The core's invariants: nothing left protected or waiting, each page saved once, the pool bound.
  expectAllUnprotected(memory);
  expect(memory.waiting).toBe(0);
  const blockIndex = new Map(memory.blocks.map((b, i) => [b.name, i]));
  const log = events.flatMap((e) => (e.type === 'saved' ? [{ block: blockIndex.get(e.block) ?? -1, page: e.page, count: e.count }] : []));
  expectEachPageOnce(memory, log);
  // The same, and the writers' release times, from witnesses outside the pipeline.
  expectEachPageOnce(memory, stored);
  // A copied page's writer waits for the copy: the simulator charges it at its default 4 GB/s.
  expectReleasedAfterSave(memory, stored, (s.pageSize / 4e9) * 1000);
  expectPoolBound(events, s.strategy === 'copy' ? s.poolPages : 0);

  // The stats add up, and agree with what the writers saw.
  const { stats, workload, hostMemory } = result;
  expect(events[events.length - 1]).toStrictEqual({ type: 'done', stats });
  expect(stats.saved.bulk + stats.saved.fault + stats.saved.copy).toBe(memory.pageCount);
  expect(stats.bytesWritten).toBe(memory.pageCount * s.pageSize);
  expect(workload.blocked).toBe(stats.faults);
  expect(memory.blocked).toHaveLength(stats.faults);
  expect(stored).toHaveLength(stats.writes);
  expect(stats.stall.count).toBe(stats.faults);
  expect(stats.faults).toBe(events.filter((e) => e.type === 'fault').length);
  expect(workload.blockedShare).toBeGreaterThanOrEqual(0);
  expect(workload.blockedShare).toBeLessThanOrEqual(1 + 1e-9);
  expect(hostMemory.allocatedBytes).toBe(memory.pageCount + (s.strategy === 'copy' ? s.poolPages * s.pageSize : 0));
  expect(hostMemory.poolPeakBytes).toBe(stats.pool.peakBytes);
  seen.faults += stats.faults;
  seen.fault += stats.saved.fault;
  seen.copy += stats.saved.copy;
}

describe('simulate properties', () => {
  it('keeps the snapshot invariants for any geometry, device, pool and workload', () => {
    fc.assert(fc.property(scenarioArb, check), { numRuns: 200 });
    expect(seen.faults).toBeGreaterThan(100);
    expect(seen.fault).toBeGreaterThan(10);
    expect(seen.copy).toBeGreaterThan(10);
  });
});
