import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseChoice, parseInteger, parseList, parseNumber, parseSize } from '../../src/cli/parse';

describe('CLI value parsers', () => {
  it('keeps a list value given twice once, compared after parsing, in first-come order', () => {
    expect(parseList(parseSize)('16MiB,1MiB,16384KiB')).toEqual([16 << 20, 1 << 20]);
    expect(parseList(parseChoice(['hdd', 'ssd']))('ssd,hdd,ssd')).toEqual(['ssd', 'hdd']);
  });

  it('takes integers in decimal digits only', () => {
    expect(parseInteger(0)('42')).toBe(42);
    expect(parseInteger(0)('007')).toBe(7);
    for (const text of ['0x10', '1e3', '2.0', '+1', '-1', '0b11', '', ' ', '9007199254740993']) {
      expect(() => parseInteger(0)(text)).toThrow(InvalidArgumentError);
    }
    expect(() => parseInteger(1)('0')).toThrow('expected a decimal integer from 1 up, got "0"');
  });

  it('takes numbers in decimal notation only', () => {
    expect(parseNumber(0, 1)('0.57')).toBe(0.57);
    expect(parseNumber(0, 1)('.5')).toBe(0.5);
    expect(parseNumber(0)('1e3')).toBe(1000);
    for (const text of ['0x10', '0b1', 'Infinity', '', '1.2.3']) expect(() => parseNumber(0)(text)).toThrow(InvalidArgumentError);
  });
});
