import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FormatError, PagedMemory, restore } from '../../src';
import { tempDir } from '../storage/support';
import { smallSnapshot } from './small';

describe('restore of a bad file', () => {
  const dir = tempDir('restore-bad');
  afterEach(() => dir.remove());

  it('changes nothing in memory when a late record is corrupt', async () => {
    const path = dir.file('x.bgsnap');
    const { bytes, regions } = await smallSnapshot(path);
    const last = regions.filter((r) => r.kind === 'record').at(-1);
    if (last === undefined) throw new Error('no record');
    const bad = Buffer.from(bytes);
    bad[last.end - 5] = (bad[last.end - 5] ?? 0) ^ 0xff;
    writeFileSync(path, bad);

    const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'a', size: 512 * 3 }, { name: 'b', size: 512 * 2 }] });
    memory.block('a').bytes.fill(0x5a);
    memory.block('b').bytes.fill(0x5b);
    const error = await restore(path, memory).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FormatError);
    expect((error as FormatError).offset).toBeGreaterThanOrEqual(last.start);
    expect(memory.block('a').bytes.every((b) => b === 0x5a)).toBe(true);
    expect(memory.block('b').bytes.every((b) => b === 0x5b)).toBe(true);
    expect(readFileSync(path).equals(bad)).toBe(true);
  });
});
