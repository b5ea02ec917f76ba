// A zero page is a bit in its record's zero map, with no data: a memory of
// zero pages makes a file of little more than headers, runs with zero pages
// inside stay one record, and restore writes the zeros back.
import { statSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { openSnapshot } from '../../src/format/reader';
import { restore } from '../../src/format/restore';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { runToEnd, tempDir } from '../storage/support';

const dir = tempDir('zero');
afterAll(() => dir.remove());

it('stores an all-zero memory without page data', async () => {
  const path = dir.file('empty.snap');
  const memory = new PagedMemory({ pageSize: 4096, blocks: [{ name: 'ram', size: 4 << 20 }] });
  const outcome = await runToEnd(snapshot(memory, new FileSink(path)));
  expect(outcome.kind).toBe('done');
  // 1024 pages: records of 28 + 8 + 4 bytes (at most 1 KiB of zero map in all), a 24-byte index entry each.
  expect(statSync(path).size).toBeLessThan(4096);
});

it('keeps zero pages inside a run in one record, and restores them', async () => {
  const path = dir.file('mixed.snap');
  const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 20 * 512 }] });
  const bytes = memory.block('ram').bytes;
  // Pages 0, 3, 4, 9 and 19 hold data; one has only a byte in the middle, one only at its start.
  for (const p of [0, 3, 4, 9, 19]) bytes[p * 512 + (p === 9 ? 300 : p === 4 ? 0 : 511)] = p + 1;
  // An all-ones page is not zero either, nor one whose only set bit is a float's sign.
  bytes.fill(0xff, 5 * 512, 6 * 512);
  bytes[7 * 512 + 7] = 0x80;
  const outcome = await runToEnd(snapshot(memory, new FileSink(path), { runBytes: 20 * 512 }));
  expect(outcome.kind).toBe('done');

  const file = await openSnapshot(path);
  const records = [];
  for await (const r of file.records()) {
    records.push({ page: r.page, count: r.count, zero: r.zeroPages, data: r.data.length, bits: Array.from({ length: r.count }, (_, i) => (r.isZero(i) ? 1 : 0)).join('') });
  }
  expect(records).toEqual([{ page: 0, count: 20, zero: 13, data: 7 * 512, bits: '01100010101111111110' }]);

  const target = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 20 * 512 }] });
  target.block('ram').bytes.fill(0xee);
  const report = await restore(path, target);
  expect(report.zeroPages).toBe(13);
  expect(Buffer.compare(target.block('ram').bytes, bytes)).toBe(0);
});
