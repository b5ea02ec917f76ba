// A header may claim blocks far larger than its file: verify then reports,
// never throws, allocates nothing per claimed page and closes the file. Each
// page takes at least one zero-map bit, so a file of `size` bytes holds at
// most 8 × (size − headerLength − 48) pages; when the records and trailer are
// intact, the problem names the block table entry where the count passes that.
import { readdirSync, writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { encodeHeader, RecordEncoder } from '../../src/format/encode';
import { PageTracker } from '../../src/format/PageTracker';
import type { SnapshotRecord } from '../../src/format/reader';
import { verify } from '../../src/format/verify';
import type { BlockInfo } from '../../src/memory/contract';
import type { SnapshotHeader } from '../../src/storage/Sink';
import { tempDir } from '../storage/support';

const dir = tempDir('huge');
afterAll(() => dir.remove());
const openFds = () => readdirSync('/proc/self/fd').length;

function hugeHeader(blocks: { name: string; size: number }[]): SnapshotHeader {
  let firstPage = 0;
  const infos: BlockInfo[] = blocks.map((b) => {
    const info = { name: b.name, size: b.size, pages: b.size / 512, firstPage };
    firstPage += info.pages;
    return info;
  });
  return { pageSize: 512, blocks: infos, t0: 0, wallTime: 0, strategy: 'q' };
}

it('reports, without throwing or leaking the handle, a header alone that claims 4 PiB', async () => {
  const path = dir.file('header-only.snap');
  const header = hugeHeader([{ name: 'ram', size: 2 ** 52 }]);
  const bytes = encodeHeader(header);
  writeFileSync(path, bytes);
  const before = openFds();
  const report = await verify(path);
  expect(openFds()).toBe(before);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  // The file ends right after its header: that is its first problem.
  expect(report.problems[0].offset).toBe(bytes.length);
  expect(report.problems[0].found).toMatch(/end of the file/);
});

it('names the block table entry when intact records and trailer cannot hold the pages the header claims', async () => {
  const path = dir.file('lying.snap');
  // 2^33 pages of 512 bytes: 2^30 bytes of bitmap, 2^33 of bytes-per-page.
  const header = hugeHeader([{ name: 'rom', size: 512 }, { name: 'ram', size: 2 ** 42 }]);
  const encoder = new RecordEncoder(header);
  const chunks: Uint8Array[] = [encoder.headerBytes];
  encoder.encode({ block: 0, page: 0, count: 1, via: 'bulk', data: new Uint8Array(512).fill(1) }, chunks);
  encoder.encode({ block: 1, page: 0, count: 1, via: 'bulk', data: new Uint8Array(512).fill(2) }, chunks);
  chunks.push(...encoder.end());
  writeFileSync(path, Buffer.concat(chunks));
  const before = openFds();
  const report = await verify(path);
  expect(openFds()).toBe(before);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  // Fixed part (96), strategy "q" (2 + 1), entry 0 "rom" (2 + 3 + 8): entry 1 starts at 112.
  expect(report.problems[0].offset).toBe(112);
  expect(report.problems[0].expected).toMatch(/block table entry 1 \("ram"\)/);
  expect(report.problems[0].found).toMatch(/8589934593 pages/);
  expect(report.header?.blocks[1]?.pages).toBe(2 ** 33);
});

it('keeps one bit per page', () => {
  const pages = 8 << 20;
  const before = process.memoryUsage().arrayBuffers;
  const tracker = new PageTracker([{ name: 'ram', size: pages * 512, pages, firstPage: 0 }]);
  const grown = process.memoryUsage().arrayBuffers - before;
  expect(grown).toBeLessThan(2 << 20);
  expect(tracker.pages).toBe(0);
});

it('finds repeats and the first missing page across bit and byte boundaries', () => {
  const blocks: BlockInfo[] = [
    { name: 'a', size: 13 * 512, pages: 13, firstPage: 0 },
    { name: 'b', size: 6 * 512, pages: 6, firstPage: 13 },
  ];
  const record = (block: number, page: number, count: number, offset: number) => ({ block, page, count, offset }) as unknown as SnapshotRecord;
  const tracker = new PageTracker(blocks);
  expect(tracker.mark(record(0, 0, 7, 100))).toBeUndefined();
  expect(tracker.mark(record(0, 7, 6, 200))).toBeUndefined();
  expect(tracker.mark(record(1, 0, 4, 300))).toBeUndefined();
  const repeat = tracker.mark(record(0, 6, 3, 400));
  expect(repeat?.offset).toBe(400);
  expect(repeat?.expected).toBe('page 6 of block "a" once');
  expect(tracker.pages).toBe(17);
  // Pages 4 and 5 of block b (global 17 and 18) never came; the first is named.
  expect(tracker.missing(999)?.expected).toMatch(/page 4 of block "b"/);
  expect(tracker.missing(999)?.found).toMatch(/^no record holding it \(2 of 19 pages missing\)$/);
  expect(tracker.mark(record(1, 4, 2, 500))).toBeUndefined();
  expect(tracker.missing(999)).toBeUndefined();
});
