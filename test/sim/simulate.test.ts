import { describe, expect, it } from 'vitest';
import { GeometryMemory, OptionError, simulate, SnapshotInProgressError, storageProfiles } from '../../src';

const memory = () => new GeometryMemory({ blocks: [{ name: 'ram', size: 4 << 20 }] });

describe('simulate', () => {
  it('reports the pipeline stats, the device, the writers and the host memory it counts', () => {
    const r = simulate(memory(), { strategy: 'copy', poolPages: 32, storage: 'nvme', workload: { writers: 2, writesPerSecond: 50_000 } });
    expect(r.storage).toStrictEqual({ ...storageProfiles.nvme, name: 'nvme' });
    expect(r.capacity).toBe(storageProfiles.nvme.queueDepth);
    expect(r.stats.strategy).toBe('copy');
    expect(r.stats.totalPages).toBe(1024);
    expect(r.stats.t0).toBe(0);
    // 4 MiB at 3 GB/s in 64-page runs, 16 at once: the device model's time, in virtual ms.
    expect(r.stats.durationMs).toBeGreaterThan((4 << 20) / 3e6);
    expect(r.stats.durationMs).toBeLessThan(5);
    expect(r.hostMemory).toStrictEqual({
      stateBytes: 1024,
      poolBytes: 32 * 4096,
      poolPeakBytes: r.stats.pool.peakPages * 4096,
      // The pool is allocated in full before t0, whatever of it the run used.
      allocatedBytes: 1024 + 32 * 4096,
    });
    expect(r.stats.pool.peakPages).toBeLessThan(32);
    expect(r.workload.writes).toBeGreaterThan(r.workload.blocked);
  });

  it('keeps the queue strategy out of the pool', () => {
    const r = simulate(memory(), { strategy: 'queue', poolPages: 32, workload: { writesPerSecond: 50_000 } });
    expect(r.stats.pool.pages).toBe(0);
    expect(r.hostMemory.poolBytes).toBe(0);
    expect(r.hostMemory.allocatedBytes).toBe(r.hostMemory.stateBytes);
    expect(r.stats.saved.copy).toBe(0);
  });

  it('names the option that is wrong, before anything runs', () => {
    const m = memory();
    expect(() => simulate(m, { storage: 'tape' as 'hdd' })).toThrow(/`storage`/);
    expect(() => simulate(m, { storage: { bandwidth: 0, latency: 1 } })).toThrow(/`storage\.bandwidth`/);
    expect(() => simulate(m, { capacity: 0 })).toThrow(/`capacity`/);
    expect(() => simulate(m, { seed: -1 })).toThrow(/`seed`/);
    expect(() => simulate(m, { workload: { hotShare: 2 } })).toThrow(/`workload\.hotShare`/);
    expect(() => simulate(m, { runBytes: 100 })).toThrow(OptionError);
    expect(() => simulate(m, { wrapStorage: 'log' as never })).toThrow(/`wrapStorage`/);
    expect(() => simulate(m, { wrapStorage: () => ({}) as never })).toThrow(/`wrapStorage` to be a function that returns a Sink/);
    expect(m.snapshotting).toBe(false);
  });

  it('fails, with the writers idle, on a memory that has a snapshot running', () => {
    const m = memory();
    const session = m.protect(() => {});
    expect(() => simulate(m)).toThrow(SnapshotInProgressError);
    session.close();
    expect(simulate(m).stats.totalPages).toBe(1024);
  });
});
