/**
 * The vCPU threads of `bgsnap run`, started from the sources (the worker
 * script loads under ts-node): attach, write while a snapshot runs, stop and
 * report their own faults and a bounded sample of stalls.
 */
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuest } from '../../src/cli/run/guest';
import { Vcpus } from '../../src/cli/run/vcpus';
import { snapshot } from '../../src/pipeline/snapshot';
import { MemorySink } from '../../src/storage/MemorySink';
import { ThrottledSink } from '../../src/storage/ThrottledSink';

let vcpus: Vcpus | undefined;
afterEach(async () => {
  await vcpus?.terminate();
  vcpus = undefined;
});

describe('vCPU threads', () => {
  it('write through a snapshot, then report their faults and at most sampleLimit stalls each', async () => {
    const guest = createGuest({ ramBytes: 4 << 20, pageSize: 4096, poolBytes: 64 * 4096 });
    vcpus = await Vcpus.start(guest.handle, { count: 2, workload: 'random', writesPerSecond: 'max', seed: 3, sampleLimit: 16 });
    vcpus.go();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // About half a second on the hdd profile in 64 KiB writes, while both vCPUs write as fast as they can.
    const done = await lastValueFrom(snapshot(guest.memory, new ThrottledSink(new MemorySink(), { profile: 'hdd' }), { strategy: 'copy', poolPages: 64, maxWriteBytes: 64 << 10 }));
    const reports = await vcpus.stop();

    expect(done.type).toBe('done');
    expect(reports.map((r) => r.id)).toEqual([0, 1]);
    for (const r of reports) {
      expect(r.writes).toBeGreaterThan(0);
      expect(r.faults.count).toBeGreaterThan(16);
      expect(r.stalls.timed).toBeGreaterThan(16);
      expect(r.stalls.micros).toHaveLength(16);
      expect([...r.stalls.micros].every((us) => us >= 0 && Number.isFinite(us))).toBe(true);
    }
  });

  it('stop() rejects and terminates them when one cannot report in time', async () => {
    const guest = createGuest({ ramBytes: 1 << 20, pageSize: 4096, poolBytes: 0 });
    vcpus = await Vcpus.start(guest.handle, { count: 1, workload: 'sequential', writesPerSecond: 1000, seed: 1 });
    vcpus.go();
    // A snapshot whose sink never calls back: the vCPU blocks on its first fault and stays blocked.
    const neverWrites = { capacity: 1, start: () => undefined, write: () => undefined, end: () => undefined, abort: () => undefined };
    let faulted: () => void = () => undefined;
    const firstFault = new Promise<void>((resolve) => (faulted = resolve));
    const stuck = snapshot(guest.memory, neverWrites, { strategy: 'queue', detail: true }).subscribe((e) => e.type === 'fault' && faulted());
    try {
      await firstFault;
      await expect(vcpus.stop(300)).rejects.toMatchObject({ name: 'VcpuError', message: 'the vCPUs did not stop within 300 ms' });
    } finally {
      stuck.unsubscribe();
    }
  });
});
