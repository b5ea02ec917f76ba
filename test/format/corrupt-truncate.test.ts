// verify refuses a file cut short at any offset, and names the structure that
// was cut: a truncated stream never passes for a complete one.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verify } from '../../src/format/verify';
import { tempDir } from '../storage/support';
import { regionAt, smallSnapshot, type Region } from './small';

const dir = tempDir('truncate');
afterAll(() => dir.remove());
let good: { bytes: Buffer; regions: Region[] };
beforeAll(async () => {
  good = await smallSnapshot(dir.file('good.snap'));
});

it('refuses the file cut at every offset, naming where the cut structure starts', async () => {
  const path = dir.file('cut.snap');
  for (let length = 0; length < good.bytes.length; length++) {
    writeFileSync(path, good.bytes.subarray(0, length));
    const report = await verify(path);
    expect(report.ok, `cut at ${length}`).toBe(false);
    if (report.ok) continue;
    expect(report.trailer).toBeUndefined();
    const problem = report.problems[0];
    // The structure that the cut falls in (or that should start where the file ends).
    const cut = regionAt(good.regions, length);
    expect(problem.offset, `cut at ${length}: ${problem.message}`).toBe(cut.start);
    expect(problem.found, `cut at ${length}`).toMatch(/end of the file|empty file/);
  }
});

it('refuses bytes after the trailer, naming where the file should have ended', async () => {
  const path = dir.file('long.snap');
  writeFileSync(path, Buffer.concat([good.bytes, Buffer.of(0)]));
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  expect(report.problems[0].offset).toBe(good.bytes.length);
  expect(report.problems[0].expected).toMatch(/end of the file/);
});
