// verify's report on a good file: ok, the header and trailer, counts that add
// up; on a missing file it throws the file system's error; on a file that is
// not a snapshot it names byte 0.
import { writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { verify } from '../../src/format/verify';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, runToEnd, tempDir } from '../storage/support';

const dir = tempDir('verify');
afterAll(() => dir.remove());

it('passes a good file, with counts', async () => {
  const path = dir.file('good.snap');
  const memory = filledMemory(4096, [{ name: 'ram', size: 100 * 4096 }, { name: 'rom', size: 4096 }], 31, 0.5);
  const zero = memory.blocks.reduce((n, b) => {
    for (let p = 0; p < b.pages; p++) if (b.bytes.subarray(p * 4096, (p + 1) * 4096).every((x) => x === 0)) n++;
    return n;
  }, 0);
  const outcome = await runToEnd(snapshot(memory, new FileSink(path), { runBytes: 16 * 4096 }));
  expect(outcome.kind).toBe('done');
  const report = await verify(path);
  expect(report.ok).toBe(true);
  if (!report.ok) return;
  expect(report.problems).toEqual([]);
  expect(report.pages).toBe(101);
  expect(report.zeroPages).toBe(zero);
  expect(report.trailer.zeroPages).toBe(zero);
  expect(report.records).toBe(report.trailer.records);
  expect(report.header.blocks.map((b) => b.name)).toEqual(['ram', 'rom']);
});

it('throws the file system error for a missing file', async () => {
  await expect(verify(dir.file('missing.snap'))).rejects.toMatchObject({ code: 'ENOENT' });
});

it('names byte 0 for a file that is not a snapshot', async () => {
  const path = dir.file('text.snap');
  writeFileSync(path, 'hello, world');
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  expect(report.header).toBeUndefined();
  expect(report.problems[0].offset).toBe(0);
  expect(report.problems[0].expected).toMatch(/magic/);
});
