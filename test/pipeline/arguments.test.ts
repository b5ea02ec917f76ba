// snapshot() refuses a memory or a sink that is not one, and a copy pool that
// cannot be allocated, with an OptionError that names the argument (or the
// option) and says what was expected, before anything is protected.
import { describe, expect, it } from 'vitest';
import { MemorySink, OptionError, PagedMemory, snapshot } from '../../src';
import type { SnapshotMemory } from '../../src';
import { numberedMemory } from '../support/fixtures';
import { expectAllUnprotected } from '../support/invariants';

const noop = (): void => undefined;

/** The error `f` throws, or undefined. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('snapshot arguments', () => {
  it.each([
    ['null', null, 'memory'],
    ['undefined', undefined, 'memory'],
    ['a number', 42, 'memory'],
    ['a string', 'ram', 'memory'],
    ['an empty object', {}, 'memory.pageSize'],
    ['a memory without protect', { pageSize: 4096, blocks: [], pageCount: 0 }, 'memory.protect'],
    ['a memory with a bad page count', { pageSize: 4096, blocks: [], pageCount: -1, protect: noop }, 'memory.pageCount'],
    ['a memory with blocks that are no array', { pageSize: 4096, blocks: 'ram', pageCount: 1, protect: noop }, 'memory.blocks'],
    ['a memory whose createPool is no function', { pageSize: 4096, blocks: [], pageCount: 1, protect: noop, createPool: 1 }, 'memory.createPool'],
  ])('refuses %s as the memory, naming `%s`', (_label, memory, option) => {
    const error = thrown(() => snapshot(memory as unknown as SnapshotMemory, new MemorySink()));
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe(option);
    expect((error as OptionError).message).toMatch(/SnapshotMemory/);
  });

  it('checks the memory before calling anything of it', () => {
    let protectCalls = 0;
    const memory = { pageSize: 'big', blocks: [], pageCount: 1, protect: () => void protectCalls++ };
    const error = thrown(() => snapshot(memory as unknown as SnapshotMemory, new MemorySink()));
    expect((error as OptionError).option).toBe('memory.pageSize');
    expect(protectCalls).toBe(0);
  });

  it.each([
    ['null', null],
    ['a number', 7],
    ['an empty object', {}],
    ['a Writable-like without the sink contract', { write: () => true, on: () => undefined }],
  ])('refuses %s as the sink, naming `sink`, with nothing protected', (_label, sink) => {
    const memory = numberedMemory(4);
    const error = thrown(() => snapshot(memory, sink as never).subscribe());
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe('sink');
    expect((error as OptionError).message).toContain('Sink');
    expectAllUnprotected(memory);
  });

  it('refuses options that are not an object, naming `options`', () => {
    const error = thrown(() => snapshot(numberedMemory(1), new MemorySink(), null as never));
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe('options');
  });

  it('fails with an OptionError naming poolPages and the bytes when the copy pool cannot be allocated', () => {
    const memory = numberedMemory(4, 4096);
    const sink = new MemorySink();
    let error: unknown;
    snapshot(memory, sink, { strategy: 'copy', poolPages: 1e9 }).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe('poolPages');
    expect((error as OptionError).message).toContain('4096000000000 bytes');
    expectAllUnprotected(memory);
    expect(sink.state).toBe('idle');
  });

  it('still refuses an explicit pool larger than the shared pool, naming poolPages', () => {
    const memory = new PagedMemory({ pageSize: 4096, blocks: [{ name: 'ram', size: 8 * 4096 }] });
    memory.share({ poolBytes: 4 * 4096 });
    let error: unknown;
    snapshot(memory, new MemorySink(), { poolPages: 5 }).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe('poolPages');
    expectAllUnprotected(memory);
  });
});
