import { describe, expect, it } from 'vitest';
import { GeometryMemory, simulate, type SimulateOptions, type SnapshotEvent } from '../../src';

const options: SimulateOptions = {
  strategy: 'copy',
  poolPages: 8,
  storage: 'ssd',
  workload: { writers: 3, writesPerSecond: 20_000, hotSetBytes: 1 << 20, hotShare: 0.8, distribution: 'zipf' },
};

/** One run with every event, `started`'s wall-clock time left out. */
function run(memory: GeometryMemory, seed: number) {
  const events: SnapshotEvent[] = [];
  const result = simulate(memory, { ...options, seed, detail: true, onEvent: (e) => events.push(e) });
  return { result, events: events.map((e) => (e.type === 'started' ? { ...e, wallTime: 0 } : e)) };
}

describe('simulate is seeded', () => {
  it('gives identical results and events for the same seed, on a fresh or a reused memory', () => {
    const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: 16 << 20 }] });
    const first = run(memory, 42);
    const again = run(memory, 42);
    const fresh = run(new GeometryMemory({ blocks: [{ name: 'ram', size: 16 << 20 }] }), 42);
    expect(again).toStrictEqual(first);
    expect(fresh).toStrictEqual(first);
    // The run did something worth comparing: writers faulted and stalled.
    expect(first.result.stats.faults).toBeGreaterThan(50);
    expect(first.result.stats.saved.copy).toBeGreaterThan(0);
    expect(first.result.stats.saved.fault).toBeGreaterThan(0);
  });

  it('gives different results for a different seed', () => {
    const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: 16 << 20 }] });
    const a = run(memory, 1).result;
    const b = run(memory, 2).result;
    expect(b.stats.faults).not.toBe(a.stats.faults);
    expect(b.workload.writes).not.toBe(a.workload.writes);
    expect(b.stats.stall).not.toStrictEqual(a.stats.stall);
  });
});
