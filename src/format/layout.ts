/**
 * The byte layout of a snapshot stream, version 1. docs/FORMAT.md is the
 * specification; the constants here are its tables. Every integer is
 * little-endian.
 */
import type { SaveVia } from '../storage/Sink';

/** The first eight bytes of every snapshot: `BGSNAP\r\n`. */
export const MAGIC: Uint8Array = Uint8Array.of(0x42, 0x47, 0x53, 0x4e, 0x41, 0x50, 0x0d, 0x0a);
export const VERSION = 1;

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
  /** Size of the fixed part; the strategy name starts here. */
  fixedSize: 40,
} as const;

/** Header flag bits. */
export const HeaderFlags = {
  /** A per-writer consistent cut follows the block table. */
  hasCut: 1,
} as const;

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

/** Trailer fields at fixed offsets from the trailer's start. */
export const Trailer = {
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
