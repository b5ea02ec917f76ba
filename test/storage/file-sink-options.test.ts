// Bad FileSink options get an OptionError that names the option.
import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors';
import { FileSink } from '../../src/storage/FileSink';

it.each([
  ['path', () => new FileSink('')],
  ['capacity', () => new FileSink('x.snap', { capacity: 0 })],
  ['capacity', () => new FileSink('x.snap', { capacity: 1.5 })],
  ['writeBytes', () => new FileSink('x.snap', { writeBytes: 0 })],
  ['writeBytes', () => new FileSink('x.snap', { writeBytes: Number.NaN })],
])('names `%s`', (option, make) => {
  expect(make).toThrow(OptionError);
  try {
    make();
  } catch (error) {
    expect((error as OptionError).option).toBe(option);
    expect((error as OptionError).message).toContain(`\`${option}\``);
  }
});

it('defaults to 16 credits', () => {
  expect(new FileSink('x.snap').capacity).toBe(16);
});
