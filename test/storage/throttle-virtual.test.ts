// ThrottledSink gives writes a device's latency and bandwidth on the
// snapshot's scheduler, so it runs in virtual time: with the hdd profile each
// write takes 8 ms plus its bytes at 150 MB/s, one at a time; with a deeper
// queue the latencies overlap and only the transfers line up.
import { VirtualTimeScheduler } from 'rxjs';
import { expect, it } from 'vitest';
import { PagedMemory } from '../../src/memory/PagedMemory';
import type { SavedEvent } from '../../src/pipeline/events';
import { snapshot } from '../../src/pipeline/snapshot';
import { storageProfiles } from '../../src/storage/profiles';
import { ThrottledSink } from '../../src/storage/ThrottledSink';
import { VirtualSink } from '../../src/storage/VirtualSink';

function run(pageSize: number, pages: number, runPages: number, sinkCapacity: number, profile: ConstructorParameters<typeof ThrottledSink>[1]['profile']) {
  const scheduler = new VirtualTimeScheduler();
  const memory = new PagedMemory({ pageSize, blocks: [{ name: 'ram', size: pages * pageSize }] });
  const inner = new VirtualSink({ scheduler, latency: 0, capacity: sinkCapacity });
  const sink = new ThrottledSink(inner, { profile, scheduler });
  const saved: number[] = [];
  let duration = -1;
  snapshot(memory, sink, { scheduler, detail: true, runBytes: runPages * pageSize, maxWriteBytes: runPages * pageSize }).subscribe((e) => {
    if (e.type === 'saved') saved.push((e as SavedEvent).at);
    if (e.type === 'done') duration = e.stats.durationMs;
  });
  scheduler.flush();
  return { saved, duration, inner };
}

it('hdd: 8 ms and 16 KiB at 150 MB/s per write, one after another', () => {
  const { saved, duration, inner } = run(4096, 16, 4, 4, 'hdd');
  const perWrite = storageProfiles.hdd.latency + ((4 * 4096) / 150e6) * 1000;
  expect(saved.length).toBe(4);
  saved.forEach((at, i) => expect(at).toBeCloseTo((i + 1) * perWrite, 9));
  expect(duration).toBeCloseTo(4 * perWrite, 9);
  // The inner sink got every write at once; the device model held the credits.
  expect(inner.maxInFlight).toBe(4);
});

it('a queue depth of 4: latencies overlap, transfers share the channel', () => {
  // 1 MB/s is 1 byte per ms: each 1 KiB write transfers for 1.024 ms after a 10 ms latency.
  const { saved } = run(512, 8, 2, 4, { bandwidth: 1e6, latency: 10, queueDepth: 4 });
  expect(saved).toHaveLength(4);
  saved.forEach((at, i) => expect(at).toBeCloseTo(10 + (i + 1) * 1.024, 9));
});

it('bandwidth-bound: large writes take their bytes over the bandwidth, whatever the depth', () => {
  // 64 KiB runs at 100 MB/s: 0.65536 ms each, 0.01 ms latency hidden by a depth of 8.
  const { duration } = run(4096, 256, 16, 8, { bandwidth: 100e6, latency: 0.01, queueDepth: 8 });
  expect(duration).toBeCloseTo(0.01 + (256 * 4096) / 100e3, 6);
});

it.each([
  // The figures the TSDoc of `storageProfiles` gives: one write of the size at a time for hdd, 16 in flight for the others.
  ['hdd', 256 * 1024, 1, 26.9e6],
  ['hdd', 1024 * 1024, 1, 69.9e6],
  ['ssd', 256 * 1024, 16, 500e6],
  ['ssd', 1024 * 1024, 16, 500e6],
  ['nvme', 256 * 1024, 16, 3000e6],
  ['nvme', 1024 * 1024, 16, 3000e6],
] as const)('%s with %i-byte writes, %i in flight: the documented effective rate', (profile, writeBytes, inFlight, rate) => {
  const bytes = 32 << 20;
  const { duration } = run(4096, bytes / 4096, writeBytes / 4096, inFlight, profile);
  const measured = bytes / (duration / 1000);
  expect(Math.abs(measured - rate) / rate).toBeLessThan(0.01);
});
