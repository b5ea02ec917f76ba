import { crc32 } from 'node:zlib';
import { FormatError } from '../errors';
import type { ByteReader } from './ByteReader';
import type { DecodedHeader } from './decodeHeader';
import { Index, Trailer, TrailerV1, VERSION_1, indexBytes, readU64 } from './layout';
import { PageIndex } from './PageIndex';
import { hex32, truncated } from './problems';

/** The trailer, checked against its crc32 and against the records read. */
export interface SnapshotTrailer {
  /** Byte offset of the trailer in the file. */
  readonly offset: number;
  /** Bytes of the trailer: 56 (48 in version 1). */
  readonly byteLength: number;
  readonly records: number;
  readonly pages: number;
  readonly zeroPages: number;
  /** Bytes of all records, from the end of the header to the index (to the trailer in version 1). */
  readonly recordBytes: number;
  /** Byte offset of the page index; `undefined` in version 1, which has none. */
  readonly indexOffset: number | undefined;
  /** crc32 over every record's crc field, in order (from the header's crc in version 2). */
  readonly streamCrc: number;
}

/** The trailer's fields, as stored; a u64 above 2^53 − 1 is `undefined`. */
export interface TrailerFields {
  readonly records: number | undefined;
  readonly pages: number | undefined;
  readonly zeroPages: number | undefined;
  readonly recordBytes: number | undefined;
  readonly indexOffset: number | undefined;
  readonly streamCrc: number;
}

/** The trailer's layout for the header's version. */
export function trailerLayout(decoded: DecodedHeader): typeof Trailer | typeof TrailerV1 {
  return decoded.header.version === VERSION_1 ? TrailerV1 : Trailer;
}

/**
 * Checks trailer bytes (tag already known) that start at file offset `at`
 * against their crc (seeded with the header's in version 2) and reserved
 * field, and returns the fields.
 * @throws FormatError naming the byte.
 */
export function trailerFields(bytes: Buffer, at: number, decoded: DecodedHeader): TrailerFields {
  const layout = trailerLayout(decoded);
  const stored = bytes.readUInt32LE(layout.crc);
  const computed = crc32(bytes.subarray(0, layout.crc), decoded.crc);
  if (stored !== computed) {
    throw new FormatError(at, `a trailer whose crc32 (stored at byte ${at + layout.crc}) is 0x${hex32(stored)}`, `crc32 0x${hex32(computed)}`);
  }
  const reserved = bytes.readUInt32LE(layout.reserved);
  if (reserved !== 0) throw new FormatError(at + layout.reserved, 'reserved bytes 0', String(reserved));
  return {
    records: readU64(bytes, layout.records),
    pages: readU64(bytes, layout.pages),
    zeroPages: readU64(bytes, layout.zeroPages),
    recordBytes: readU64(bytes, layout.recordBytes),
    indexOffset: 'indexOffset' in layout ? readU64(bytes, layout.indexOffset) : undefined,
    streamCrc: bytes.readUInt32LE(layout.streamCrc),
  };
}

/**
 * Reads the page index at file offset `at`, where `reader` stands (its tag
 * already known), with `entries` entries, and checks its crc (seeded with
 * the header's) and reserved field.
 * @throws FormatError naming the byte.
 */
export async function readIndexSection(reader: ByteReader, at: number, decoded: DecodedHeader, entries: number): Promise<PageIndex> {
  // Step 1: the fixed part; the entry count must be the one expected before the entries are read.
  if (!(await reader.ensure(Index.fixedSize))) throw truncated(at, Index.fixedSize, 'the fixed part of the index', reader);
  const fixed = reader.peek(Index.fixedSize);
  const stored = readU64(fixed, Index.entries);
  if (stored !== entries) {
    throw new FormatError(at + Index.entries, `an index of ${entries} entries, one per record`, `${stored ?? 'more than 2^53'} entries`);
  }
  // Step 2: the whole index, checked against its crc.
  const length = indexBytes(entries);
  if (!(await reader.ensure(length))) throw truncated(at, length, 'the index', reader);
  const bytes = reader.take(length);
  const crcAt = length - Index.crcSize;
  const storedCrc = bytes.readUInt32LE(crcAt);
  const computed = crc32(bytes.subarray(0, crcAt), decoded.crc);
  if (storedCrc !== computed) {
    throw new FormatError(at, `an index whose crc32 (stored at byte ${at + crcAt}) is 0x${hex32(storedCrc)}`, `crc32 0x${hex32(computed)}`);
  }
  const reserved = bytes.readUInt32LE(Index.reserved);
  if (reserved !== 0) throw new FormatError(at + Index.reserved, 'reserved bytes 0', String(reserved));
  // Step 3: the entries.
  const index = PageIndex.decode(bytes, entries);
  if (typeof index === 'number') {
    const i = -index - 1;
    throw new FormatError(at + Index.fixedSize + Index.entrySize * i, `index entry ${i} with an offset and first page at most 2^53 - 1`, 'a larger number');
  }
  return index;
}

/** File offset of index entry `i`'s field `field` (`Index.entryOffset`, …), for an index at `at`. */
export function entryFieldAt(at: number, i: number, field: number): number {
  return at + Index.fixedSize + Index.entrySize * i + field;
}
