import { isProtected } from '../../src/memory/contract';
import { describe, expect, it } from 'vitest';
import { GeometryMemory, simulate, SimulationStalledError, type SimulateOptions, type Sink, type VirtualClock } from '../../src';

/** A sink that forwards to `inner`, as a plain object to override parts of. */
function forward(inner: Sink): Sink {
  return {
    capacity: inner.capacity,
    start: (header) => inner.start(header),
    write: (run, done) => inner.write(run, done),
    end: (done) => inner.end(done),
    abort: (reason) => inner.abort(reason),
  };
}

/** Runs `simulate` and returns what it threw. */
function stall(memory: GeometryMemory, options: SimulateOptions): SimulationStalledError {
  try {
    simulate(memory, options);
  } catch (error) {
    expect(error).toBeInstanceOf(SimulationStalledError);
    return error as SimulationStalledError;
  }
  throw new Error('simulate returned');
}

/** The snapshot was cancelled: every page writable, no writer left waiting, the memory free for the next. */
function expectCancelled(memory: GeometryMemory): void {
  expect(memory.snapshotting).toBe(false);
  expect(!memory.states.some(isProtected)).toBe(true);
  expect(memory.waiting).toBe(0);
}

describe('simulate gives up on a snapshot that would never end', () => {
  it('no-progress: the sink never ends, every page is writable, and the writers would run forever', () => {
    const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: 1 << 20 }] });
    const neverEnds = (device: Sink): Sink => ({ ...forward(device), end: () => {} });
    const error = stall(memory, { storage: 'ssd', wrapStorage: neverEnds });
    expect(error.condition).toBe('no-progress');
    // 1000 × 8 writes in flight × (0.1 ms + the largest write at 500 MB/s): the most a working
    // pipeline waits, a thousand times. The largest write is the whole 1 MiB memory here.
    expect(error.limitMs).toBeCloseTo(1000 * 8 * (0.1 + ((1 << 20) / 500e6) * 1000), 6);
    expect(error.atMs - error.lastProgressMs).toBeCloseTo(error.limitMs, 6);
    expect(error.lastProgressMs).toBeLessThan(10);
    expect(error.message).toMatch(/^The simulated snapshot stalled: nothing reached the simulated storage for 17\.6 s of virtual time/);
    expectCancelled(memory);
  });

  it('idle: a write never calls back, and the writers all end up blocked', () => {
    const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: 1 << 20 }] });
    let writes = 0;
    const stuck = (device: Sink): Sink => ({ ...forward(device), write: (run, done) => (writes++ < 2 ? device.write(run, done) : undefined) });
    const error = stall(memory, { strategy: 'queue', storage: 'hdd', wrapStorage: stuck, workload: { writers: 2, writesPerSecond: 500 } });
    expect(error.condition).toBe('idle');
    expect(error.message).toMatch(/nothing was left to run \(every writer blocked, or none\) and it had not ended/);
    expectCancelled(memory);
  });

  it('over-time: progress keeps coming, but the run outlasts any correct snapshot', () => {
    // Each write calls back 5 s (virtual) late: progress every 5 s, within the no-progress limit
    // (1000 × 9.7 ms), but 16 one-page writes take 80 s, past the run's limit (its floor, 1 min).
    const late = (device: Sink, clock: VirtualClock): Sink => ({
      ...forward(device),
      write: (run, done) => device.write(run, (error) => void clock.schedule(() => done(error), 5000)),
    });
    const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: 16 * 4096 }] });
    const error = stall(memory, { storage: 'hdd', runBytes: 4096, wrapStorage: late, workload: { writers: 1 } });
    expect(error.condition).toBe('over-time');
    expect(error.limitMs).toBe(60_000);
    expect(error.message).toMatch(/^The simulated snapshot ran past its limit of 60 s of virtual time/);
    expectCancelled(memory);
  });

  it('leaves a correct snapshot alone, however slow: 64 MiB to an hdd one page a write', () => {
    const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: 64 << 20 }] });
    const r = simulate(memory, { storage: 'hdd', runBytes: 4096, maxWriteBytes: 4096, workload: { writers: 2, writesPerSecond: 100 } });
    expect(r.stats.writes).toBe(16384);
    expect(r.stats.durationMs).toBeGreaterThan(16384 * 8);
  });
});
