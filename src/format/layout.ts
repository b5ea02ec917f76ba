/**
 * The byte layout of a snapshot stream, version 2 (and version 1, which is
 * still read). docs/FORMAT.md is the specification; the constants here are
 * its tables. Every integer is little-endian.
 */
import type { SaveVia } from '../storage/Sink';

/** The first eight bytes of every snapshot: `BGSNAP\r\n`. */
export const MAGIC: Uint8Array = Uint8Array.of(0x42, 0x47, 0x53, 0x4e, 0x41, 0x50, 0x0d, 0x0a);
/** The version written. */
export const VERSION = 2;
/** The version before ids, chains and the index: read, never written. */
export const VERSION_1 = 1;

/** Header fields at fixed offsets, before the variable part. */
export const Header = {
  magic: 0,
  version: 8,
  flags: 10,
  length: 12,
  pageSize: 16,
  blockCount: 20,
  wallTime: 24,
  t0: 32,
  /** Version 2 only, from here to `fixedSize`. */
  id: 40,
  parent: 56,
  root: 72,
  link: 88,
  codec: 92,
  reserved: 93,
  /** Size of the fixed part; the strategy name starts here. */
  fixedSize: 96,
  /** Size of version 1's fixed part, which ends after t0. */
  fixedSizeV1: 40,
} as const;

/** Bytes of an id (a UUID). */
export const ID_BYTES = 16;

/** Header flag bits. */
export const HeaderFlags = {
  /** A per-writer consistent cut follows the block table. */
  hasCut: 1,
  /** An incremental snapshot: it holds the pages written since its parent's t0 (version 2). */
  incremental: 2,
} as const;

/** How records flagged compressed are compressed: the header's `codec` byte. */
export const Codec = {
  none: 0,
  zstd: 1,
  lz4: 2,
  zlib: 3,
} as const;

/** A codec's name. */
export type CodecName = keyof typeof Codec;

/** Codec names by code. */
export const CODEC_NAMES: readonly CodecName[] = ['none', 'zstd', 'lz4', 'zlib'];

/** A header is at most this long, crc included. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Strings (strategy and block names) are at most this many UTF-8 bytes: a u16 length. */
export const MAX_STRING_BYTES = 0xffff;

/** A four-byte tag, as the u32 it reads as. */
function tag(text: string): number {
  return Buffer.from(text, 'latin1').readUInt32LE(0);
}

/** `PAGE`: a page record. */
export const RECORD_TAG = tag('PAGE');
/** `INDX`: the page index, after the last record (version 2). */
export const INDEX_TAG = tag('INDX');
/** `TRLR`: the trailer, the last thing in the stream. */
export const TRAILER_TAG = tag('TRLR');

/** Page record fields at fixed offsets from the record's start. */
export const Record = {
  tag: 0,
  block: 4,
  page: 8,
  count: 16,
  flags: 20,
  via: 21,
  reserved: 22,
  payloadLength: 24,
  /** Size of the fixed part; the zero map (if any) and the page data follow. */
  fixedSize: 28,
  /** The crc32 after the payload. */
  crcSize: 4,
} as const;

/** Record flag bits. */
export const RecordFlags = {
  /** A zero map of ceil(count / 8) bytes follows the fixed part. */
  zeroMap: 1,
  /** The data is one frame of the header's codec (version 2). */
  compressed: 2,
} as const;

/** How a page reached storage, as the record's `via` byte. */
export const VIA_CODES: readonly SaveVia[] = ['bulk', 'fault', 'copy'];

/**
 * Most pages in one record: its payload (zero map and data) must fit the u32
 * `payloadLength`. Longer runs are written as several records.
 */
export function maxRecordPages(pageSize: number): number {
  return Math.floor(0x7fffffff / pageSize);
}

/** Page index fields at fixed offsets from the index's start (version 2). */
export const Index = {
  tag: 0,
  reserved: 4,
  entries: 8,
  /** Size of the fixed part; the entries follow. */
  fixedSize: 16,
  /** Bytes of one entry. */
  entrySize: 24,
  /** An entry's fields, from the entry's start. */
  entryOffset: 0,
  entryFirstPage: 8,
  entryBlock: 16,
  entryCount: 20,
  /** The crc32 after the entries. */
  crcSize: 4,
} as const;

/** Bytes of an index of `entries` entries, crc included. */
export function indexBytes(entries: number): number {
  return Index.fixedSize + Index.entrySize * entries + Index.crcSize;
}

/** Trailer fields at fixed offsets from the trailer's start (version 2). */
export const Trailer = {
  tag: 0,
  reserved: 4,
  records: 8,
  pages: 16,
  zeroPages: 24,
  recordBytes: 32,
  indexOffset: 40,
  streamCrc: 48,
  crc: 52,
  size: 56,
} as const;

/** Version 1's trailer: no index offset, and crcs that start from 0. */
export const TrailerV1 = {
  tag: 0,
  reserved: 4,
  records: 8,
  pages: 16,
  zeroPages: 24,
  recordBytes: 32,
  streamCrc: 40,
  crc: 44,
  size: 48,
} as const;

/** Bytes in a record's zero map. */
export function zeroMapBytes(count: number): number {
  return Math.ceil(count / 8);
}

const TWO_32 = 2 ** 32;

/** Writes a u64 from a safe integer, as two u32 halves (little-endian). */
export function writeU64(into: Buffer, offset: number, value: number): void {
  into.writeUInt32LE(value % TWO_32, offset);
  into.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

/** Reads a u64; `undefined` when it is above `Number.MAX_SAFE_INTEGER`. */
export function readU64(from: Buffer, offset: number): number | undefined {
  const value = from.readUInt32LE(offset + 4) * TWO_32 + from.readUInt32LE(offset);
  return Number.isSafeInteger(value) ? value : undefined;
}
