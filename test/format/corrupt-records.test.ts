// verify refuses a stream whose records are each intact but whose sequence is
// not: a record duplicated, dropped or moved. It names the byte.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verify } from '../../src/format/verify';
import { tempDir } from '../storage/support';
import { smallSnapshot, type Region } from './small';

const dir = tempDir('records');
afterAll(() => dir.remove());
let good: { bytes: Buffer; regions: Region[] };
let records: Region[];
let trailer: Region;
beforeAll(async () => {
  good = await smallSnapshot(dir.file('good.snap'));
  records = good.regions.filter((r) => r.kind === 'record');
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
    // The trailer's record count disagrees too.
    expect(report.problems.some((p) => p.offset === trailer.start + (r.end - r.start) + 8)).toBe(true);
  }
});

it('refuses each record dropped, naming the trailer and a missing page', async () => {
  for (const r of records) {
    const path = dir.file('drop.snap');
    writeFileSync(path, Buffer.concat([part(0, r.start), part(r.end, good.bytes.length)]));
    const report = await verify(path);
    expect(report.ok).toBe(false);
    if (report.ok) continue;
    const trailerAt = trailer.start - (r.end - r.start);
    expect(report.problems[0].offset).toBe(trailerAt + 8);
    expect(report.problems[0].expected).toMatch(/record count of \d+/);
    expect(report.problems.some((p) => p.offset === trailerAt && /every page in a record/.test(p.expected))).toBe(true);
  }
});

it('refuses two records swapped, naming the stream checksum', async () => {
  const [first, second] = records as [Region, Region];
  const path = dir.file('swap.snap');
  writeFileSync(path, Buffer.concat([part(0, first.start), part(second.start, second.end), part(first.start, first.end), part(second.end, good.bytes.length)]));
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  expect(report.problems[0].offset).toBe(trailer.start + 40);
  expect(report.problems[0].expected).toMatch(/stream checksum/);
});
