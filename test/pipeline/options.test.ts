import { describe, expect, it } from 'vitest';
import { MemorySink, OptionError, snapshot, VirtualSink } from '../../src';
import { numberedMemory } from '../support/fixtures';
import { VirtualTimeScheduler } from 'rxjs';

describe('snapshot options', () => {
  it.each([
    [{ poolPages: -1 }, 'poolPages'],
    [{ poolPages: 1.5 }, 'poolPages'],
    [{ strategy: 'fork' }, 'strategy'],
    [{ runBytes: 100 }, 'runBytes'],
    [{ faultRunBytes: 511 }, 'faultRunBytes'],
    [{ turnBytes: 0 }, 'turnBytes'],
    [{ minWriteBytes: 511 }, 'minWriteBytes'],
    [{ maxWriteBytes: 'big' }, 'maxWriteBytes'],
    [{ minWriteBytes: 2048, maxWriteBytes: 1024 }, 'minWriteBytes'],
    [{ bulkShare: -0.1 }, 'bulkShare'],
    [{ turnMs: -1 }, 'turnMs'],
    [{ scheduler: {} }, 'scheduler'],
    [{ detail: 'yes' }, 'detail'],
    [{ incremental: 1 }, 'incremental'],
    [{ id: 'not-a-uuid' }, 'id'],
    [{ id: '00000000-0000-0000-0000-000000000000' }, 'id'],
    [{ id: '0A1B2C3D-0000-4000-8000-000000000001' }, 'id'],
    [{ strategy: { name: 'mine', serve: () => undefined } }, 'strategy'],
  ])('refuses %j naming `%s`', (options, option) => {
    const memory = numberedMemory(2);
    let error: unknown;
    try {
      snapshot(memory, new MemorySink(), options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe(option);
    expect(memory.snapshotting).toBe(false);
  });

  it.each([0, -1, 2.5])('refuses a sink capacity of %s', (capacity) => {
    expect(() => new MemorySink({ capacity })).toThrowError(/`capacity`/);
    expect(() => new VirtualSink({ scheduler: new VirtualTimeScheduler(), capacity })).toThrowError(OptionError);
    const sink = { capacity, start() {}, write() {}, end() {}, abort() {} };
    expect(() => snapshot(numberedMemory(1), sink)).toThrowError(/`capacity`/);
  });

  it.each([null, {}, { capacity: 1, start() {}, write() {}, end() {} }])('refuses a sink without the contract %#', (sink) => {
    let error: unknown;
    try {
      snapshot(numberedMemory(1), sink as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe('sink');
  });
});
