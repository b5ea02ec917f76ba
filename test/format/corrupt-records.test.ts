// verify refuses a stream whose records are each intact but whose sequence is
// not: a record duplicated, dropped or moved. It names the byte.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Index, Trailer } from '../../src/format/layout';
import { PageIndex } from '../../src/format/PageIndex';
import { openSnapshot } from '../../src/format/reader';
import { verify } from '../../src/format/verify';
import { tempDir } from '../storage/support';
import { smallSnapshot, type Region } from './small';

const dir = tempDir('records');
afterAll(() => dir.remove());
let good: { bytes: Buffer; regions: Region[] };
let records: Region[];
let index: Region;
let trailer: Region;
beforeAll(async () => {
  good = await smallSnapshot(dir.file('good.snap'));
  records = good.regions.filter((r) => r.kind === 'record');
  index = good.regions.find((r) => r.kind === 'index') as Region;
  trailer = good.regions.find((r) => r.kind === 'trailer') as Region;
});

const part = (from: number, to: number): Buffer => good.bytes.subarray(from, to);

it('refuses each record duplicated in place, naming the copy and the repeated page', async () => {
  for (const r of records) {
    const path = dir.file('dup.snap');
    writeFileSync(path, Buffer.concat([part(0, r.end), part(r.start, r.end), part(r.end, good.bytes.length)]));
    const report = await verify(path);
    expect(report.ok).toBe(false);
    if (report.ok) continue;
    expect(report.problems[0].offset).toBe(r.end);
    expect(report.problems[0].expected).toMatch(/^page \d+ of block "[ab]" once$/);
    // The index's entry count disagrees too.
    expect(report.problems.some((p) => p.offset === index.start + (r.end - r.start) + Index.entries)).toBe(true);
  }
});

it('refuses each record dropped, naming the index entry count', async () => {
  for (const r of records) {
    const path = dir.file('drop.snap');
    writeFileSync(path, Buffer.concat([part(0, r.start), part(r.end, good.bytes.length)]));
    const report = await verify(path);
    expect(report.ok).toBe(false);
    if (report.ok) continue;
    const indexAt = index.start - (r.end - r.start);
    expect(report.problems[0].offset).toBe(indexAt + Index.entries);
    expect(report.problems[0].expected).toMatch(/an index of \d+ entries, one per record/);
  }
});

it('refuses two records swapped, naming the index entry', async () => {
  const [first, second] = records as [Region, Region];
  const path = dir.file('swap.snap');
  writeFileSync(path, Buffer.concat([part(0, first.start), part(second.start, second.end), part(first.start, first.end), part(second.end, good.bytes.length)]));
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  expect(report.problems[0].offset).toBeGreaterThanOrEqual(index.start + Index.fixedSize);
  expect(report.problems[0].offset).toBeLessThan(index.start + Index.fixedSize + 2 * Index.entrySize);
  expect(report.problems[0].expected).toMatch(/^index entry [01] with the/);
});

it('refuses two records swapped with an index rebuilt to match, naming the stream checksum', async () => {
  const [first, second] = records as [Region, Region];
  // Step 1: the records in their new order, and an index of them with a good crc.
  const swapped = Buffer.concat([part(0, first.start), part(second.start, second.end), part(first.start, first.end), part(second.end, index.start)]);
  const path = dir.file('swap-index.snap');
  writeFileSync(path, good.bytes);
  const file = await openSnapshot(path);
  const rebuilt = new PageIndex();
  for await (const r of file.records()) {
    const at = r.offset === first.start ? first.start + (second.end - second.start) : r.offset === second.start ? first.start : r.offset;
    rebuilt.push(at, r.block, r.page, r.count);
  }
  const headerCrc = good.bytes.readUInt32LE(file.header.byteLength - 4);
  const order = [1, 0, ...Array.from({ length: rebuilt.length - 2 }, (_, i) => i + 2)];
  const inOrder = new PageIndex();
  for (const i of order) inOrder.push(rebuilt.offset(i), rebuilt.block(i), rebuilt.firstPage(i), rebuilt.count(i));
  // Step 2: the file with it; only the trailer's stream checksum can tell.
  writeFileSync(path, Buffer.concat([swapped, inOrder.encode(headerCrc), part(trailer.start, trailer.end)]));
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  expect(report.problems[0].offset).toBe(trailer.start + Trailer.streamCrc);
  expect(report.problems[0].expected).toMatch(/stream checksum/);
});
