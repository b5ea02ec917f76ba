// docs/FORMAT.md's worked example, byte for byte: a reader written from the
// document alone (below, with DataView and zlib.crc32) reads what FileSink
// writes, a full snapshot and then its incremental child, and every field is
// where the document says. A version 1 file, built from the document's
// "Version 1" section, is still read by bgsnap.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import { openSnapshot } from '../../src/format/reader';
import { restore } from '../../src/format/restore';
import { verify } from '../../src/format/verify';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { runToEnd, tempDir } from '../storage/support';

const dir = tempDir('spec');
afterAll(() => dir.remove());

/** The document's reader: fields of `file` by offset. */
function fields(file: Buffer) {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  return {
    view,
    hex: (from: number, to: number) => [...file.subarray(from, to)].map((b) => b.toString(16).padStart(2, '0')).join(' '),
    u64: (at: number) => Number(view.getBigUint64(at, true)),
    uuid: (at: number) => {
      const h = file.subarray(at, at + 16).toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  };
}

/** The parts of the example that both snapshots share: header, one record, index and trailer. */
function checkExample(file: Buffer, want: { flags: number; count: number; recordFlags: number; via: number; payload: number }) {
  const { view, hex, u64 } = fields(file);
  // Header: 119 bytes.
  expect(hex(0, 8)).toBe('42 47 53 4e 41 50 0d 0a');
  expect(view.getUint16(8, true)).toBe(2);
  expect(view.getUint16(10, true)).toBe(want.flags);
  expect(view.getUint32(12, true)).toBe(119);
  expect(view.getUint32(16, true)).toBe(512);
  expect(view.getUint32(20, true)).toBe(1);
  expect(hex(92, 96)).toBe('00 00 00 00');
  expect(hex(96, 102)).toBe('04 00 63 6f 70 79');
  expect(hex(102, 107)).toBe('03 00 72 61 6d');
  expect(u64(107)).toBe(1024);
  const headerCrc = view.getUint32(115, true);
  expect(headerCrc).toBe(crc32(file.subarray(0, 115)));

  // Record at 119.
  const r = 119;
  const length = 28 + want.payload + 4;
  expect(file.subarray(r, r + 4).toString('latin1')).toBe('PAGE');
  expect(view.getUint32(r + 4, true)).toBe(0);
  expect(u64(r + 8)).toBe(0);
  expect(view.getUint32(r + 16, true)).toBe(want.count);
  expect(view.getUint8(r + 20)).toBe(want.recordFlags);
  expect(view.getUint8(r + 21)).toBe(want.via);
  expect(view.getUint16(r + 22, true)).toBe(0);
  expect(view.getUint32(r + 24, true)).toBe(want.payload);
  const recordCrc = file.subarray(r + length - 4, r + length);
  expect(view.getUint32(r + length - 4, true)).toBe(crc32(file.subarray(r, r + length - 4)));

  // Index: 44 bytes after the record.
  const i = r + length;
  expect(hex(i, i + 8)).toBe('49 4e 44 58 00 00 00 00');
  expect([u64(i + 8), u64(i + 16), u64(i + 24), view.getUint32(i + 32, true), view.getUint32(i + 36, true)]).toEqual([1, 119, 0, 0, want.count]);
  expect(view.getUint32(i + 40, true)).toBe(crc32(file.subarray(i, i + 40), headerCrc));

  // Trailer: 56 bytes after the index, and the end of the file.
  const t = i + 44;
  expect(file.length).toBe(t + 56);
  expect(hex(t, t + 8)).toBe('54 52 4c 52 00 00 00 00');
  expect([u64(t + 8), u64(t + 16), u64(t + 32), u64(t + 40)]).toEqual([1, want.count, length, i]);
  expect(view.getUint32(t + 48, true)).toBe(crc32(recordCrc, headerCrc));
  expect(view.getUint32(t + 52, true)).toBe(crc32(file.subarray(t, t + 52), headerCrc));
  return { r, t };
}

it('matches the example: a full snapshot, then its incremental child', async () => {
  // The full snapshot: page 0 holds data, page 1 is zero.
  const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 1024 }] });
  memory.block('ram').bytes.fill(0x11, 0, 512);
  const fullPath = dir.file('full.bgsnap');
  const before = Date.now();
  const outcome = await runToEnd(snapshot(memory, new FileSink(fullPath), { strategy: 'copy' }));
  expect(outcome.kind).toBe('done');
  const full = readFileSync(fullPath);
  const f = fields(full);
  expect(full.length).toBe(764);
  const { r, t } = checkExample(full, { flags: 0, count: 2, recordFlags: 1, via: 0, payload: 513 });
  expect(f.view.getFloat64(24, true)).toBeGreaterThanOrEqual(before);
  expect(f.view.getFloat64(24, true)).toBeLessThanOrEqual(Date.now());
  const id = f.uuid(40);
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(f.hex(56, 72)).toBe(Array(16).fill('00').join(' '));
  expect(f.uuid(72)).toBe(id);
  expect(f.view.getUint32(88, true)).toBe(0);
  expect(f.view.getUint8(r + 28)).toBe(0b10);
  expect(full.subarray(r + 29, r + 29 + 512).every((b) => b === 0x11)).toBe(true);
  expect(f.u64(t + 24)).toBe(1);

  // The child: page 0 alone, saved as a copy.
  const childPath = dir.file('child.bgsnap');
  const sink = new FileSink(childPath);
  sink.start({ pageSize: 512, blocks: memory.blocks, t0: 1, wallTime: Date.now(), strategy: 'copy', identity: { id: randomUUID(), parent: id, root: id, link: 1 } });
  const data = new Uint8Array(512).fill(0x22);
  await new Promise<void>((resolve, reject) => sink.write({ block: 0, page: 0, count: 1, via: 'copy', data }, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve, reject) => sink.end((e) => (e ? reject(e) : resolve())));
  const child = readFileSync(childPath);
  const c = fields(child);
  expect(child.length).toBe(763);
  const at = checkExample(child, { flags: 2, count: 1, recordFlags: 0, via: 2, payload: 512 });
  expect(c.uuid(40)).not.toBe(id);
  expect([c.uuid(56), c.uuid(72), c.view.getUint32(88, true)]).toEqual([id, id, 1]);
  expect(child.subarray(at.r + 28, at.r + 28 + 512).every((b) => b === 0x22)).toBe(true);
  expect(c.u64(at.t + 24)).toBe(0);

  // Restoring the chain: page 0 from the child, page 1 from the full snapshot.
  expect((await verify([fullPath, childPath])).ok).toBe(true);
  const restored = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 1024 }] });
  restored.block('ram').bytes.fill(0xff);
  await restore([fullPath, childPath], restored);
  expect(restored.block('ram').bytes.subarray(0, 512).every((b) => b === 0x22)).toBe(true);
  expect(restored.block('ram').bytes.subarray(512).every((b) => b === 0)).toBe(true);
  // The document's check value for its crc32.
  expect(crc32('123456789')).toBe(0xcbf43926);
});

it('still reads version 1: the same full snapshot as version 1 wrote it', async () => {
  // Header (63 bytes): the fixed part ends at 40, then the strategy, the block table and the crc.
  const header = Buffer.alloc(63);
  Buffer.from('BGSNAP\r\n', 'latin1').copy(header, 0);
  header.writeUInt16LE(1, 8);
  header.writeUInt32LE(63, 12);
  header.writeUInt32LE(512, 16);
  header.writeUInt32LE(1, 20);
  header.writeDoubleLE(1_700_000_000_000, 24);
  Buffer.from('0400636f7079' + '030072616d' + '0004000000000000', 'hex').copy(header, 40);
  header.writeUInt32LE(crc32(header.subarray(0, 59)), 59);
  // Record (545 bytes): zero map 0b10, page 0 of 0x11.
  const record = Buffer.alloc(545);
  record.write('PAGE', 0, 'latin1');
  record.writeUInt32LE(2, 16);
  record.writeUInt8(1, 20);
  record.writeUInt32LE(513, 24);
  record.writeUInt8(0b10, 28);
  record.fill(0x11, 29, 541);
  record.writeUInt32LE(crc32(record.subarray(0, 541)), 541);
  // Trailer (48 bytes): crcs from 0, no index.
  const trailer = Buffer.alloc(48);
  trailer.write('TRLR', 0, 'latin1');
  trailer.writeUInt32LE(1, 8);
  trailer.writeUInt32LE(2, 16);
  trailer.writeUInt32LE(1, 24);
  trailer.writeUInt32LE(545, 32);
  trailer.writeUInt32LE(crc32(record.subarray(541)), 40);
  trailer.writeUInt32LE(crc32(trailer.subarray(0, 44)), 44);
  const path = dir.file('v1.bgsnap');
  writeFileSync(path, Buffer.concat([header, record, trailer]));

  const file = await openSnapshot(path);
  expect(file.header).toMatchObject({ version: 1, kind: 'full', identity: undefined, byteLength: 63, strategy: 'copy' });
  for await (const r of file.records()) expect([r.block, r.page, r.count, r.zeroPages, r.data[0]]).toEqual([0, 0, 2, 1, 0x11]);
  expect(file.trailer).toMatchObject({ offset: 608, records: 1, pages: 2, zeroPages: 1, recordBytes: 545, indexOffset: undefined });
  expect((await verify(path)).ok).toBe(true);
});
