// The stream, index and trailer crcs are seeded with the header's: records,
// an index or a trailer taken from another snapshot of the same geometry, even
// of the same bytes, do not check.
import { writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { Index, Record, RecordFlags, Trailer } from '../../src/format/layout';
import { verify } from '../../src/format/verify';
import { crc32 } from 'node:zlib';
import { tempDir } from '../storage/support';
import { allPages, chainIdentities, snapshotBytes, testHeader } from './writeFile';

const dir = tempDir('splice');
afterAll(() => dir.remove());

/** Two full snapshots of the same pages, with the same geometry and header length. */
function twins(): [Buffer, Buffer, number] {
  const [a] = chainIdentities(1);
  const [b] = chainIdentities(1);
  const one = snapshotBytes(testHeader(a), allPages(1));
  const two = snapshotBytes(testHeader(b), allPages(1));
  return [one, two, one.readUInt32LE(12)];
}

it('refuses the records, index and trailer of another snapshot after this header', async () => {
  const [one, two, headerLength] = twins();
  expect(one.subarray(headerLength).equals(two.subarray(headerLength))).toBe(false);
  const path = dir.file('body.bgsnap');
  writeFileSync(path, Buffer.concat([one.subarray(0, headerLength), two.subarray(headerLength)]));
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (report.ok) return;
  // The records check (their crcs are their own); the index is the first thing that does not.
  const indexAt = two.length - Trailer.size - (Index.fixedSize + 2 * Index.entrySize + Index.crcSize);
  expect(report.problems[0].offset).toBe(indexAt);
  expect(report.problems[0].expected).toMatch(/^an index whose crc32/);
});

it('refuses the trailer of another snapshot', async () => {
  const [one, two] = twins();
  const path = dir.file('trailer.bgsnap');
  writeFileSync(path, Buffer.concat([one.subarray(0, -Trailer.size), two.subarray(-Trailer.size)]));
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (!report.ok) expect(report.problems[0].expected).toMatch(/^a trailer whose crc32/);
});

it('refuses a record of another snapshot in place of one of the same pages', async () => {
  const [one, , headerLength] = twins();
  const [c] = chainIdentities(1);
  const other = snapshotBytes(testHeader(c), allPages(2));
  const path = dir.file('record.bgsnap');
  // The first record (ram 0–7) has the same length in both: only the stream checksum can tell.
  const length = Record.fixedSize + 8 * 512 + Record.crcSize;
  writeFileSync(path, Buffer.concat([one.subarray(0, headerLength), other.subarray(headerLength, headerLength + length), one.subarray(headerLength + length)]));
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (!report.ok) expect(report.problems[0].expected).toMatch(/stream checksum/);
});

it('refuses a codec this reader does not support, and a record flagged compressed in a file with none', async () => {
  const [one, , headerLength] = twins();
  // A header naming zstd, with its crc made good.
  const zstd = Buffer.from(one);
  zstd[92] = 1;
  zstd.writeUInt32LE(crc32(zstd.subarray(0, headerLength - 4)), headerLength - 4);
  const path = dir.file('zstd.bgsnap');
  writeFileSync(path, zstd);
  let report = await verify(path);
  expect(report.ok).toBe(false);
  if (!report.ok) {
    expect(report.problems[0].offset).toBe(92);
    expect(report.problems[0].found).toBe('codec zstd, which is not supported by this reader');
  }
  // A record flagged compressed, with its crc made good.
  const flagged = Buffer.from(one);
  const length = Record.fixedSize + 8 * 512;
  flagged[headerLength + Record.flags] = RecordFlags.compressed;
  flagged.writeUInt32LE(crc32(flagged.subarray(headerLength, headerLength + length)), headerLength + length);
  writeFileSync(path, flagged);
  report = await verify(path);
  expect(report.ok).toBe(false);
  if (!report.ok) {
    expect(report.problems[0].offset).toBe(headerLength + Record.flags);
    expect(report.problems[0].expected).toMatch(/not flagged compressed/);
  }
});
