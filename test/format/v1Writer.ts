/**
 * A version 1 writer, from docs/FORMAT.md's "Version 1" section alone: the
 * header's fixed part ends at 40, there is no index, and the 48-byte
 * trailer's crcs start from 0. bgsnap no longer writes version 1; its files
 * must still be read.
 */
import { crc32 } from 'node:zlib';
import type { SnapshotHeader } from '../../src/storage/Sink';
import type { TestRun } from './writeFile';

const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const str = (s: string) => {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16LE(bytes.length);
  return Buffer.concat([len, bytes]);
};

/** A version 1 snapshot of `runs` (no zero maps: every page stored). */
export function v1Bytes(header: SnapshotHeader, runs: readonly TestRun[]): Buffer {
  // Header: magic, version 1, flags 0, length, page size, block count, times, strategy, blocks, crc.
  const fixed = Buffer.alloc(40);
  Buffer.from('BGSNAP\r\n', 'latin1').copy(fixed, 0);
  fixed.writeUInt16LE(1, 8);
  fixed.writeUInt32LE(header.pageSize, 16);
  fixed.writeUInt32LE(header.blocks.length, 20);
  fixed.writeDoubleLE(header.wallTime, 24);
  fixed.writeDoubleLE(header.t0, 32);
  const body = Buffer.concat([fixed, str(header.strategy), ...header.blocks.flatMap((b) => [str(b.name), u64(b.size)])]);
  body.writeUInt32LE(body.length + 4, 12);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body));
  const out: Buffer[] = [body, crc];
  // Records, each with its crc; the stream crc from 0.
  let streamCrc = 0;
  let recordBytes = 0;
  let pages = 0;
  for (const r of runs) {
    const fixedRecord = Buffer.alloc(28);
    fixedRecord.write('PAGE', 0, 'latin1');
    fixedRecord.writeUInt32LE(r.block, 4);
    u64(r.page).copy(fixedRecord, 8);
    fixedRecord.writeUInt32LE(r.count, 16);
    fixedRecord.writeUInt32LE(r.count * header.pageSize, 24);
    const record = Buffer.concat([fixedRecord, Buffer.alloc(r.count * header.pageSize, r.fill)]);
    const recordCrc = Buffer.alloc(4);
    recordCrc.writeUInt32LE(crc32(record));
    streamCrc = crc32(recordCrc, streamCrc);
    out.push(record, recordCrc);
    recordBytes += record.length + 4;
    pages += r.count;
  }
  // Trailer: 48 bytes, crc of [0, 44) with no seed.
  const trailer = Buffer.alloc(48);
  trailer.write('TRLR', 0, 'latin1');
  u64(runs.length).copy(trailer, 8);
  u64(pages).copy(trailer, 16);
  u64(0).copy(trailer, 24);
  u64(recordBytes).copy(trailer, 32);
  trailer.writeUInt32LE(streamCrc, 40);
  trailer.writeUInt32LE(crc32(trailer.subarray(0, 44)), 44);
  out.push(trailer);
  return Buffer.concat(out);
}
