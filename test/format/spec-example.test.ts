// docs/FORMAT.md's worked example, byte for byte: a reader written from the
// document alone (below, with DataView and zlib.crc32) reads what FileSink
// writes, and every field is where the document says.
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { runToEnd, tempDir } from '../storage/support';

const dir = tempDir('spec');
afterAll(() => dir.remove());

it('matches the example: 512 B pages, block "ram" of 2 pages, page 1 zero, strategy copy', async () => {
  const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 1024 }] });
  memory.block('ram').bytes.fill(0x11, 0, 512);
  const path = dir.file('example.snap');
  const before = Date.now();
  const outcome = await runToEnd(snapshot(memory, new FileSink(path), { strategy: 'copy' }));
  expect(outcome.kind).toBe('done');
  const file = readFileSync(path);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const hex = (from: number, to: number) => [...file.subarray(from, to)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const u64 = (at: number) => Number(view.getBigUint64(at, true));

  // Header: 63 bytes.
  expect(hex(0, 8)).toBe('42 47 53 4e 41 50 0d 0a');
  expect(view.getUint16(8, true)).toBe(1);
  expect(view.getUint16(10, true)).toBe(0);
  expect(view.getUint32(12, true)).toBe(63);
  expect(view.getUint32(16, true)).toBe(512);
  expect(view.getUint32(20, true)).toBe(1);
  expect(view.getFloat64(24, true)).toBeGreaterThanOrEqual(before);
  expect(view.getFloat64(24, true)).toBeLessThanOrEqual(Date.now());
  expect(hex(40, 46)).toBe('04 00 63 6f 70 79');
  expect(hex(46, 51)).toBe('03 00 72 61 6d');
  expect(u64(51)).toBe(1024);
  expect(view.getUint32(59, true)).toBe(crc32(file.subarray(0, 59)));

  // Record: 28 + 513 + 4 = 545 bytes at 63.
  const r = 63;
  expect(file.subarray(r, r + 4).toString('latin1')).toBe('PAGE');
  expect(view.getUint32(r + 4, true)).toBe(0);
  expect(u64(r + 8)).toBe(0);
  expect(view.getUint32(r + 16, true)).toBe(2);
  expect(view.getUint8(r + 20)).toBe(1);
  expect(view.getUint8(r + 21)).toBe(0);
  expect(view.getUint16(r + 22, true)).toBe(0);
  expect(view.getUint32(r + 24, true)).toBe(513);
  expect(view.getUint8(r + 28)).toBe(0b10);
  expect(file.subarray(r + 29, r + 29 + 512).every((b) => b === 0x11)).toBe(true);
  const recordCrc = file.subarray(r + 541, r + 545);
  expect(view.getUint32(r + 541, true)).toBe(crc32(file.subarray(r, r + 541)));

  // Trailer: 48 bytes at 608, and the end of the file.
  const t = r + 545;
  expect(file.length).toBe(t + 48);
  expect(file.subarray(t, t + 4).toString('latin1')).toBe('TRLR');
  expect(view.getUint32(t + 4, true)).toBe(0);
  expect([u64(t + 8), u64(t + 16), u64(t + 24), u64(t + 32)]).toEqual([1, 2, 1, 545]);
  expect(view.getUint32(t + 40, true)).toBe(crc32(recordCrc));
  expect(view.getUint32(t + 44, true)).toBe(crc32(file.subarray(t, t + 44)));
  // The document's check value for its crc32.
  expect(crc32('123456789')).toBe(0xcbf43926);
});
