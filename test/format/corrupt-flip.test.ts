// verify refuses a file with any one byte changed, in the header, a record or
// the trailer, and its first problem points into the structure that was hit.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FormatError } from '../../src/errors';
import { verify } from '../../src/format/verify';
import { tempDir } from '../storage/support';
import { regionAt, smallSnapshot, type Region } from './small';

const dir = tempDir('flip');
afterAll(() => dir.remove());
let good: { bytes: Buffer; regions: Region[] };
beforeAll(async () => {
  good = await smallSnapshot(dir.file('good.snap'));
});

it('the small file has a header, several records with zero pages, and a trailer', async () => {
  expect(good.regions.filter((r) => r.kind === 'record').length).toBeGreaterThanOrEqual(3);
  const report = await verify(dir.file('good.snap'));
  expect(report.ok).toBe(true);
  expect(report.zeroPages).toBeGreaterThan(0);
});

it.each([
  ['every bit inverted (xor 0xff)', () => 0xff],
  ['the lowest bit (xor 0x01)', () => 0x01],
])('refuses every offset with %s, naming the structure', async (_name, mask) => {
  const path = dir.file('flipped.snap');
  const bytes = Buffer.from(good.bytes);
  for (let offset = 0; offset < bytes.length; offset++) {
    bytes[offset] = (bytes[offset] as number) ^ mask();
    writeFileSync(path, bytes);
    bytes[offset] = (bytes[offset] as number) ^ mask();
    const report = await verify(path);
    expect(report.ok, `byte ${offset} flipped`).toBe(false);
    if (report.ok) continue;
    const problem = report.problems[0];
    expect(problem).toBeInstanceOf(FormatError);
    const hit = regionAt(good.regions, offset);
    expect(problem.offset, `byte ${offset} flipped (${hit.kind} ${hit.start}–${hit.end}): ${problem.message}`).toBeGreaterThanOrEqual(hit.start);
    expect(problem.offset, `byte ${offset} flipped: ${problem.message}`).toBeLessThan(hit.end);
    expect(problem.message).toMatch(/^At byte \d+: expected .+, found .+/);
  }
});
