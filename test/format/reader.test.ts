// openSnapshot gives the header (geometry, t0, strategy, cut) and the records
// in save order, back to back from the end of the header to the trailer;
// each page once, zero pages as spans without data.
import { afterAll, expect, it } from 'vitest';
import { openSnapshot } from '../../src/format/reader';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import type { PageRun } from '../../src/storage/Sink';
import { filledMemory, runToEnd, startWriters, tempDir, type Writers } from '../storage/support';

const dir = tempDir('reader');
afterAll(() => dir.remove());

it('reads the records of a snapshot with faults, in save order, back to back', async () => {
  const memory = filledMemory(4096, [{ name: 'ram', size: 128 * 4096 }, { name: 'io', size: 4 * 4096 }], 21);
  const path = dir.file('order.snap');
  let writers: Writers | undefined;
  const outcome = await runToEnd(snapshot(memory, new FileSink(path, { capacity: 2 }), { strategy: 'queue', runBytes: 8 * 4096 }), () => {
    writers = startWriters(memory, 3, 21);
  });
  await writers?.stop();
  expect(outcome.kind).toBe('done');

  const file = await openSnapshot(path);
  expect(file.header.version).toBe(2);
  expect(file.header.kind).toBe('full');
  expect(file.header.codec).toBe('none');
  expect(file.header.identity?.root).toBe(file.header.identity?.id);
  expect(file.header.identity?.link).toBe(0);
  expect(file.header.strategy).toBe('queue');
  expect(file.header.blocks.map((b) => [b.name, b.size, b.pages, b.firstPage])).toEqual([
    ['ram', 128 * 4096, 128, 0],
    ['io', 4 * 4096, 4, 128],
  ]);
  expect(file.header.cut).toBeUndefined();
  const started = outcome.events.find((e) => e.type === 'started');
  expect(file.header.wallTime).toBe(started?.type === 'started' ? started.wallTime : NaN);

  let next = file.header.byteLength;
  const vias = new Set<string>();
  let bulkAt = -1;
  let pages = 0;
  for await (const record of file.records()) {
    expect(record.offset).toBe(next);
    next += record.byteLength;
    vias.add(record.via);
    // The bulk pass goes through the blocks in order; faults come in between.
    if (record.via === 'bulk') {
      const global = (file.header.blocks[record.block]?.firstPage ?? Number.NaN) + record.page;
      expect(global).toBeGreaterThan(bulkAt);
      bulkAt = global;
    }
    const spans = record.spans();
    expect(spans.reduce((n, s) => n + s.count, 0)).toBe(record.count);
    expect(spans.filter((s) => s.data === null).reduce((n, s) => n + s.count, 0)).toBe(record.zeroPages);
    for (const s of spans) if (s.data !== null) expect(s.data.length).toBe(s.count * 4096);
    pages += record.count;
  }
  expect(vias.has('fault')).toBe(true);
  expect(pages).toBe(132);
  expect(file.trailer?.indexOffset).toBe(next);
  expect(file.trailer?.offset).toBe(next + 16 + 24 * (file.trailer?.records ?? 0) + 4);
  expect(file.trailer?.pages).toBe(132);
  await expect(async () => {
    for await (const _ of file.records()) break;
  }).rejects.toThrow(/iterated once/);
});

it('keeps the per-writer cut when the header has one', async () => {
  const memory = filledMemory(512, [{ name: 'ram', size: 4 * 512 }], 22);
  const path = dir.file('cut.snap');
  const sink = new FileSink(path);
  sink.start({ pageSize: 512, blocks: memory.blocks, t0: 12.5, wallTime: 1_700_000_000_123, strategy: 'copy', cut: [3, 0, 2 ** 40] });
  const run: PageRun = { block: 0, page: 0, count: 4, via: 'bulk', data: memory.block('ram').bytes };
  await new Promise<void>((resolve, reject) => sink.write(run, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve, reject) => sink.end((e) => (e ? reject(e) : resolve())));
  const file = await openSnapshot(path);
  expect(file.header.cut).toEqual([3, 0, 2 ** 40]);
  expect(file.header.t0).toBe(12.5);
  expect(file.header.wallTime).toBe(1_700_000_000_123);
  await file.close();
});
