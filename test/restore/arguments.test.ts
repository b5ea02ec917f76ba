import { describe, expect, it } from 'vitest';
import { OptionError, PagedMemory, restoreLive } from '../../src';

describe('restoreLive arguments', () => {
  // An object that reads bytes (a `SnapshotSource`, what `s3Source` gives) is not a page source.
  it.each([
    ['a byte source', { size: 4096, read: async () => 0 }],
    ['a number', 42],
    ['a list with a number in it', ['a.bgsnap', 7]],
  ])('refuses %s as files, naming `files`, before anything is touched', (_, files) => {
    const memory = new PagedMemory({ blocks: [{ name: 'ram', size: 4 * 4096 }] });
    let error: unknown;
    try {
      restoreLive(files as never, memory);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe('files');
    expect(memory.loading).toBe(false);
  });
});
