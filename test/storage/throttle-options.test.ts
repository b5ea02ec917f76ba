// Bad throttling options get an OptionError naming the option; the named
// profiles are the documented figures.
import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors';
import { MemorySink } from '../../src/storage/MemorySink';
import { storageProfiles } from '../../src/storage/profiles';
import { ThrottledSink } from '../../src/storage/ThrottledSink';

const make = (options: unknown) => () => new ThrottledSink(new MemorySink(), options as never);

it.each([
  ['profile', { profile: 'floppy' }],
  ['profile', { profile: undefined }],
  ['profile.bandwidth', { profile: { bandwidth: 0, latency: 1 } }],
  ['profile.latency', { profile: { bandwidth: 1e6, latency: -1 } }],
  ['profile.queueDepth', { profile: { bandwidth: 1e6, latency: 1, queueDepth: 0 } }],
  ['scheduler', { profile: 'ssd', scheduler: {} }],
])('names `%s`', (option, options) => {
  expect(make(options)).toThrow(OptionError);
  try {
    make(options)();
  } catch (error) {
    expect((error as OptionError).option).toBe(option);
  }
});

it('has hdd at 150 MB/s and 8 ms, one write at a time; capacity is the inner sink’s', () => {
  expect(storageProfiles.hdd).toEqual({ bandwidth: 150e6, latency: 8, queueDepth: 1 });
  const sink = new ThrottledSink(new MemorySink({ capacity: 7 }), { profile: 'nvme' });
  expect(sink.capacity).toBe(7);
  expect(sink.profile).toBe(storageProfiles.nvme);
});

it('hands out profiles that cannot be changed, the named ones and custom ones alike', () => {
  expect(Object.isFrozen(storageProfiles)).toBe(true);
  for (const profile of Object.values(storageProfiles)) expect(Object.isFrozen(profile)).toBe(true);
  expect(() => {
    (storageProfiles.hdd as { latency: number }).latency = 0;
  }).toThrow(TypeError);
  expect(storageProfiles.hdd.latency).toBe(8);
  const custom = { bandwidth: 1e6, latency: 1 };
  const sink = new ThrottledSink(new MemorySink(), { profile: custom });
  expect(sink.profile).toEqual({ bandwidth: 1e6, latency: 1, queueDepth: 1 });
  expect(Object.isFrozen(sink.profile)).toBe(true);
  custom.latency = 50;
  expect(sink.profile.latency).toBe(1);
});
