// Compressed records (docs/FORMAT.md, "Compressed records"): a sink with
// `compression: 'zstd'` names the codec in the header and stores each record's
// non-zero pages as one zstd frame when that is smaller, plain otherwise; the
// zero map stays bits. Reading, verify and restore take both kinds alike, and
// refuse a frame that is corrupt or decodes to another length at its record.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { compress } from 'zstd-napi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Codec } from '../../src/compression/Codec';
import { zstdCodec } from '../../src/compression/zstd';
import { FormatError, OptionError } from '../../src/errors';
import { RecordEncoder } from '../../src/format/encode';
import { Record, RecordFlags } from '../../src/format/layout';
import { openSnapshot } from '../../src/format/reader';
import { restore } from '../../src/format/restore';
import { verify } from '../../src/format/verify';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { StreamSink } from '../../src/storage/StreamSink';
import { runToEnd, tempDir } from '../storage/support';
import { regionAt, type Region } from './small';
import { testHeader } from './writeFile';

const dir = tempDir('compressed');
afterAll(() => dir.remove());

/** Pages of text (shrink), random bytes (do not) and zeros, in a repeating pattern of 5. */
function mixedMemory(pageSize: number, pages: number): PagedMemory {
  const memory = new PagedMemory({ pageSize, blocks: [{ name: 'ram', size: pages * pageSize }, { name: 'io', size: 2 * pageSize }] });
  const text = Buffer.from('SELECT name, size FROM pages WHERE block = ? ORDER BY page; -- bgsnap\n'.repeat(Math.ceil(pageSize / 60)));
  for (const block of memory.blocks) {
    for (let p = 0; p < block.pages; p++) {
      const page = block.bytes.subarray(p * pageSize, (p + 1) * pageSize);
      if (p % 5 === 0 || p % 5 === 3) page.set(text.subarray(p % 7, (p % 7) + pageSize));
      else if (p % 5 === 1) page.set(randomBytes(pageSize));
      else if (p % 5 === 4) page.set(text.subarray(0, pageSize / 2));
    }
  }
  return memory;
}

let path: string;
let original: PagedMemory;
beforeAll(async () => {
  path = dir.file('mixed.snap');
  original = mixedMemory(4096, 200);
  const outcome = await runToEnd(snapshot(original, new FileSink(path, { compression: 'zstd' }), { runBytes: 64 * 1024 }));
  if (outcome.kind !== 'done') throw new Error('the compressed snapshot failed');
});

it('names zstd in the header and stores records compressed and plain, with the counts for a ratio', async () => {
  const file = await openSnapshot(path);
  expect(file.header.codec).toBe('zstd');
  let compressed = 0;
  for await (const record of file.records()) {
    if (record.compressed) {
      compressed++;
      expect(record.storedBytes).toBeLessThan(record.data.length);
    } else expect(record.storedBytes).toBe(record.data.length);
  }
  expect(compressed).toBeGreaterThan(0);
  const report = await verify(path);
  expect(report.ok).toBe(true);
  expect(report.compressedRecords).toBe(compressed);
  expect(report.dataBytes).toBe((report.pages - report.zeroPages) * 4096);
  expect(report.storedDataBytes).toBeLessThan(report.dataBytes * 0.7);
});

it('restores a compressed snapshot byte for byte', async () => {
  const memory = new PagedMemory({ pageSize: 4096, blocks: original.blocks.map((b) => ({ name: b.name, size: b.size })) });
  memory.block('ram').bytes.fill(0x5a);
  const report = await restore(path, memory);
  expect(report.pages).toBe(202);
  for (const block of original.blocks) expect(Buffer.compare(memory.block(block.name).bytes, block.bytes)).toBe(0);
});

it('stores a record plain when its frame would not be smaller', async () => {
  const memory = new PagedMemory({ pageSize: 4096, blocks: [{ name: 'ram', size: 8 * 4096 }] });
  memory.block('ram').bytes.set(randomBytes(8 * 4096));
  const random = dir.file('random.snap');
  const outcome = await runToEnd(snapshot(memory, new FileSink(random, { compression: 'zstd' })));
  expect(outcome.kind).toBe('done');
  const report = await verify(random);
  expect(report.ok).toBe(true);
  expect(report.compressedRecords).toBe(0);
  expect(report.storedDataBytes).toBe(report.dataBytes);
});

it('refuses a compression option it does not write, naming the option', () => {
  expect(() => new FileSink(dir.file('x.snap'), { compression: 'lz4' as 'zstd' })).toThrow(OptionError);
  expect(() => new StreamSink(process.stdout, { compression: 'gzip' as 'zstd' })).toThrow(/compression/);
});

/** A small compressed file (512-byte pages, zero pages among text) and its regions. */
async function smallCompressed(file: string): Promise<{ bytes: Buffer; regions: Region[] }> {
  const memory = mixedMemory(512, 12);
  const outcome = await runToEnd(snapshot(memory, new FileSink(file, { compression: 'zstd' }), { strategy: 'queue', runBytes: 2048 }));
  if (outcome.kind !== 'done') throw new Error('the small snapshot failed');
  const regions: Region[] = [];
  const read = await openSnapshot(file);
  regions.push({ kind: 'header', start: 0, end: read.header.byteLength });
  for await (const r of read.records()) regions.push({ kind: 'record', start: r.offset, end: r.offset + r.byteLength });
  const trailer = read.trailer;
  if (trailer?.indexOffset === undefined) throw new Error('no trailer');
  regions.push({ kind: 'index', start: trailer.indexOffset, end: trailer.offset });
  regions.push({ kind: 'trailer', start: trailer.offset, end: trailer.offset + trailer.byteLength });
  return { bytes: readFileSync(file), regions };
}

it('refuses every offset of a compressed file with a bit flipped, naming the structure', async () => {
  const good = await smallCompressed(dir.file('small.snap'));
  const report = await verify(dir.file('small.snap'));
  expect(report.ok && report.compressedRecords > 0 && report.zeroPages > 0).toBe(true);
  const flipped = dir.file('flipped.snap');
  const bytes = Buffer.from(good.bytes);
  for (let offset = 0; offset < bytes.length; offset++) {
    bytes[offset] = (bytes[offset] as number) ^ 0x01;
    writeFileSync(flipped, bytes);
    bytes[offset] = (bytes[offset] as number) ^ 0x01;
    const result = await verify(flipped);
    expect(result.ok, `byte ${offset} flipped`).toBe(false);
    if (result.ok) continue;
    const problem = result.problems[0];
    expect(problem).toBeInstanceOf(FormatError);
    const hit = regionAt(good.regions, offset);
    expect(problem.offset, `byte ${offset} flipped (${hit.kind} ${hit.start}–${hit.end}): ${problem.message}`).toBeGreaterThanOrEqual(hit.start);
    expect(problem.offset, `byte ${offset} flipped: ${problem.message}`).toBeLessThan(hit.end);
  }
});

/** A file of one 8-page record whose frame is what `frame(data)` makes, crc good, flagged compressed. */
function fileWithFrame(name: string, frame: (data: Uint8Array) => Uint8Array): { file: string; recordAt: number } {
  const lying: Codec = { ...zstdCodec, compress: frame };
  const header = testHeader();
  const encoder = new RecordEncoder(header, undefined, lying);
  const chunks: Uint8Array[] = [encoder.headerBytes];
  const data = Buffer.alloc(8 * 512, 'page text ');
  encoder.encode({ block: 0, page: 0, count: 8, via: 'bulk', data }, chunks);
  encoder.encode({ block: 1, page: 0, count: 2, via: 'bulk', data: Buffer.alloc(2 * 512, 'io ') }, chunks);
  chunks.push(...encoder.end());
  const bytes = Buffer.concat(chunks);
  expect(bytes[encoder.headerBytes.length + Record.flags]).toBe(RecordFlags.compressed);
  const file = dir.file(name);
  writeFileSync(file, bytes);
  return { file, recordAt: encoder.headerBytes.length };
}

it('refuses a frame that decodes short, at its record', async () => {
  const { file, recordAt } = fileWithFrame('short.snap', (data) => compress(data.subarray(0, data.length - 512)));
  const report = await verify(file);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  expect(report.problems[0].offset).toBe(recordAt);
  expect(report.problems[0].expected).toBe('a record whose zstd frame decompresses to 4096 bytes');
  expect(report.problems[0].found).toBe('a zstd frame of 3584 bytes');
  const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 8 * 512 }, { name: 'io', size: 2 * 512 }] });
  await expect(restore(file, memory)).rejects.toThrow(FormatError);
});

it('refuses a frame that is not zstd, at its record', async () => {
  const { file, recordAt } = fileWithFrame('garbage.snap', () => Buffer.from('not a zstd frame'));
  const report = await verify(file);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  expect(report.problems[0].offset).toBe(recordAt);
  expect(report.problems[0].found).toMatch(/^a corrupt zstd frame/);
});

it('refuses two frames, and a frame that decodes long, at the record', async () => {
  const two = fileWithFrame('two.snap', (data) => Buffer.concat([compress(data.subarray(0, 2048)), compress(data.subarray(2048))]));
  const long = fileWithFrame('long.snap', (data) => compress(Buffer.concat([data, data.subarray(0, 512)])));
  for (const [{ file, recordAt }, found] of [
    [two, /^a corrupt zstd frame/],
    [long, /^a zstd frame of 4608 bytes$/],
  ] as const) {
    const report = await verify(file);
    expect(report.ok).toBe(false);
    if (report.ok) continue;
    expect(report.problems[0].offset).toBe(recordAt);
    expect(report.problems[0].found).toMatch(found);
  }
});
