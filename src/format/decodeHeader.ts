import { crc32 } from 'node:zlib';
import { FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import { MAX_PAGE_SIZE, MIN_PAGE_SIZE } from '../memory/geometry';
import type { SnapshotHeader } from '../storage/Sink';
import type { ByteReader } from './ByteReader';
import { Header, HeaderFlags, MAGIC, MAX_HEADER_BYTES, Trailer, VERSION, readU64 } from './layout';
import { hex, hex32, truncated } from './problems';

/** The header as read from a snapshot file. */
export interface SnapshotFileHeader extends SnapshotHeader {
  /** Format version; this reader knows 1. */
  readonly version: number;
  /** Bytes of the header, crc included: the first record starts at this offset. */
  readonly byteLength: number;
}

/** A header as decoded, with where each block table entry starts. */
export interface DecodedHeader {
  readonly header: SnapshotFileHeader;
  /** File offset of each block table entry (its name's length field), in block order. */
  readonly blockEntryOffsets: readonly number[];
}

/** Smallest header: the fixed part, an empty strategy name, one block with a one-byte name, the crc. */
const MIN_HEADER_BYTES = Header.fixedSize + 2 + (2 + 1 + 8) + 4;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and checks the header at the start of `reader`.
 * @throws FormatError naming the byte and what was expected there.
 */
export async function decodeHeader(reader: ByteReader): Promise<DecodedHeader> {
  // Step 1: the magic, then the fixed part up to the header length.
  const whole = await reader.ensure(MAGIC.length);
  const found = reader.peek(MAGIC.length);
  if (found.length === 0 || !found.equals(MAGIC.subarray(0, found.length))) {
    throw new FormatError(0, `the magic ${hex(MAGIC)} ("BGSNAP\\r\\n")`, found.length === 0 ? 'an empty file' : hex(found));
  }
  if (!whole) throw truncated(0, MAGIC.length, 'the magic', reader);
  if (!(await reader.ensure(Header.fixedSize))) throw truncated(0, Header.fixedSize, 'the fixed part of the header', reader);
  const fixed = reader.peek(Header.fixedSize);
  const version = fixed.readUInt16LE(Header.version);
  if (version !== VERSION) throw new FormatError(Header.version, `format version ${VERSION}`, `version ${version}`);
  const flags = fixed.readUInt16LE(Header.flags);
  if ((flags & ~HeaderFlags.hasCut) !== 0) throw new FormatError(Header.flags, 'header flags 0 or 1', `0x${flags.toString(16)}`);
  const length = fixed.readUInt32LE(Header.length);
  if (length < MIN_HEADER_BYTES || length > MAX_HEADER_BYTES) {
    throw new FormatError(Header.length, `a header length from ${MIN_HEADER_BYTES} to ${MAX_HEADER_BYTES}`, String(length));
  }

  // Step 2: the whole header, checked against its crc before any field is trusted.
  if (!(await reader.ensure(length))) throw truncated(0, length, 'the header', reader);
  const bytes = reader.take(length);
  const crcAt = length - 4;
  const stored = bytes.readUInt32LE(crcAt);
  const computed = crc32(bytes.subarray(0, crcAt));
  if (stored !== computed) {
    throw new FormatError(0, `a header whose crc32 (stored at byte ${crcAt}) is 0x${hex32(stored)}`, `crc32 0x${hex32(computed)}`);
  }

  // Step 3: the fields, each within range.
  const pageSize = fixed.readUInt32LE(Header.pageSize);
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) {
    throw new FormatError(Header.pageSize, `a page size that is a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}`, String(pageSize));
  }
  const blockCount = fixed.readUInt32LE(Header.blockCount);
  if (blockCount < 1) throw new FormatError(Header.blockCount, 'at least one block', '0');
  const wallTime = fixed.readDoubleLE(Header.wallTime);
  const t0 = fixed.readDoubleLE(Header.t0);
  if (!Number.isFinite(wallTime)) throw new FormatError(Header.wallTime, 'a finite wall time', String(wallTime));
  if (!Number.isFinite(t0)) throw new FormatError(Header.t0, 'a finite t0', String(t0));

  // Step 4: the variable part, never reading past the crc.
  const cursor = new HeaderCursor(bytes, crcAt);
  const strategy = cursor.string('the strategy name');
  const blocks: BlockInfo[] = [];
  const blockEntryOffsets: number[] = [];
  const names = new Set<string>();
  let firstPage = 0;
  for (let i = 0; i < blockCount; i++) {
    const nameAt = cursor.at;
    blockEntryOffsets.push(nameAt);
    const name = cursor.string(`the name of block ${i}`);
    if (name.length === 0 || names.has(name)) {
      throw new FormatError(nameAt, `a unique, non-empty name for block ${i}`, JSON.stringify(name));
    }
    names.add(name);
    const sizeAt = cursor.at;
    const size = cursor.u64(`the size of block ${i}`);
    if (size === 0 || size % pageSize !== 0) {
      throw new FormatError(sizeAt, `a size of block ${i} that is a positive multiple of the page size ${pageSize}`, String(size));
    }
    blocks.push({ name, size, pages: size / pageSize, firstPage });
    firstPage += size / pageSize;
  }
  let cut: number[] | undefined;
  if ((flags & HeaderFlags.hasCut) !== 0) {
    const count = cursor.u32('the number of cut entries');
    cut = [];
    for (let i = 0; i < count; i++) cut.push(cursor.u64(`cut entry ${i}`));
  }
  if (cursor.at !== crcAt) {
    throw new FormatError(cursor.at, `the header crc at byte ${cursor.at} (the header says it is ${length} bytes long)`, `${crcAt - cursor.at} more bytes`);
  }
  const header: SnapshotFileHeader = { version, byteLength: length, pageSize, blocks, t0, wallTime, strategy };
  return { header: cut === undefined ? header : { ...header, cut }, blockEntryOffsets };
}

/**
 * Checks the header's page count against what a file of `fileSize` bytes can
 * hold: every page takes at least one zero-map bit, and the trailer 48 bytes,
 * so a complete file holds at most 8 × (fileSize − headerLength − 48) pages.
 * Lets a reader refuse a header that claims more before it allocates anything
 * per page.
 * @returns a problem naming the block table entry at which the count passes
 * that, or `undefined` when the file can hold every page.
 */
export function pageCountProblem({ header, blockEntryOffsets }: DecodedHeader, fileSize: number): FormatError | undefined {
  const most = 8 * Math.max(0, fileSize - header.byteLength - Trailer.size);
  const i = header.blocks.findIndex((b) => b.firstPage + b.pages > most);
  const block = header.blocks[i];
  if (block === undefined) return undefined;
  return new FormatError(
    blockEntryOffsets[i] as number,
    `block table entry ${i} (${JSON.stringify(block.name)}) within what the file can hold: at most ${most} pages in all ` +
      `in a file of ${fileSize} bytes (each page takes at least one zero-map bit)`,
    `${block.firstPage + block.pages} pages in blocks 0 to ${i}`,
  );
}

/** Reads the header's variable part, refusing to run into the crc. */
class HeaderCursor {
  at = Header.fixedSize;

  constructor(
    private readonly bytes: Buffer,
    private readonly end: number,
  ) {}

  string(what: string): string {
    const length = this.need(2, `the length of ${what}`).readUInt16LE(0);
    const at = this.at;
    try {
      return utf8.decode(this.need(length, what));
    } catch {
      throw new FormatError(at, `${what} in UTF-8`, 'bytes that are not UTF-8');
    }
  }

  u32(what: string): number {
    return this.need(4, what).readUInt32LE(0);
  }

  u64(what: string): number {
    const at = this.at;
    const value = readU64(this.need(8, what), 0);
    if (value === undefined) throw new FormatError(at, `${what} at most 2^53 - 1`, 'a larger number');
    return value;
  }

  private need(n: number, what: string): Buffer {
    if (this.at + n > this.end) {
      throw new FormatError(this.at, `${what} (${n} bytes) before the header crc at byte ${this.end}`, `${this.end - this.at} bytes left`);
    }
    const view = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return view;
  }
}
