import { describe, expect, it } from 'vitest';
import { attachMemory, OptionError, PagedMemory } from '../../src';

/**
 * `write` takes a `Uint8Array` (a `Buffer` is one) and nothing else: the
 * in-process barrier and a writer thread's alike. Anything else is refused
 * with an `OptionError` naming `data`, before a byte or a count changes.
 */
const NOT_BYTES: readonly [string, unknown][] = [
  ['a string', 'abcd'],
  ['an array of numbers', [1, 2, 300, -1]],
  ['a Uint16Array', new Uint16Array([1, 2])],
  ['a Float64Array', new Float64Array(1)],
  ['a DataView', new DataView(new ArrayBuffer(4))],
  ['an array-like object', { length: 3 }],
  ['null', null],
  ['undefined', undefined],
  ['an ArrayBuffer', new ArrayBuffer(4)],
];

const memoryOf = () => new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 4 * 512 }] });

describe('write data', () => {
  it.each(NOT_BYTES)('the in-process barrier refuses %s', (_, data) => {
    const memory = memoryOf();
    const write = () => memory.write('ram', 0, data as Uint8Array);
    expect(write).toThrow(OptionError);
    expect(write).toThrow(/`data` to be a Uint8Array/);
    expect(memory.read('ram', 0, 8)).toEqual(new Uint8Array(8));
  });

  it.each(NOT_BYTES)('a writer thread refuses %s', (_, data) => {
    const memory = memoryOf();
    const writer = attachMemory(memory.share());
    expect(() => writer.write('ram', 0, data as Uint8Array)).toThrow(OptionError);
    expect(writer.writes).toBe(0);
    expect(memory.read('ram', 0, 8)).toEqual(new Uint8Array(8));
    writer.detach();
  });

  it('takes a Buffer and a view of another typed array as bytes', async () => {
    const memory = memoryOf();
    await memory.write('ram', 0, Buffer.from([1, 2, 3]));
    const words = new Uint16Array([0x0201, 0x0403]);
    const writer = attachMemory(memory.share());
    writer.write('ram', 3, new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
    expect(memory.read('ram', 0, 7)).toEqual(new Uint8Array([1, 2, 3, 1, 2, 3, 4]));
    writer.detach();
  });
});
