import { crc32 } from 'node:zlib';
import { FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import type { SaveVia } from '../storage/Sink';
import type { ByteReader } from './ByteReader';
import { decompress } from './codecs';
import type { SnapshotFileHeader } from './decodeHeader';
import { Record, RecordFlags, VERSION_1, VIA_CODES, readU64, zeroMapBytes } from './layout';
import { hex32, truncated } from './problems';

/** Contiguous pages of a record that are all zero (`data` null) or all stored. */
export interface PageSpan {
  /** First page of the span, counted within the block. */
  readonly page: number;
  readonly count: number;
  /** The pages' bytes, or `null` for zero pages: a view, valid as long as its record's. */
  readonly data: Uint8Array | null;
}

/**
 * One page record, checked against its crc32.
 *
 * A record yielded by `SnapshotFile.records()` is a view of the reader's
 * buffer: its `data`, its spans' `data` and its zero map are valid only until
 * the iteration moves on (the loop's next step, or its end), when the reader
 * reads over them. A record kept for later (in an array, across an `await`
 * of the next record) must be kept as `record.copy()`.
 */
export interface SnapshotRecord {
  /** Byte offset of the record in the file. */
  readonly offset: number;
  /** Bytes of the record, from its tag through its crc. */
  readonly byteLength: number;
  /** Index of the block in `header.blocks`. */
  readonly block: number;
  /** First page, counted within the block. */
  readonly page: number;
  readonly count: number;
  readonly via: SaveVia;
  /** Pages of the record stored as zero, without data. */
  readonly zeroPages: number;
  /** Whether page `i` of the record (0 ≤ i < count) is a zero page. */
  isZero(i: number): boolean;
  /** The stored pages' bytes, in page order, zero pages left out (decompressed). A view: see the lifetime above. */
  readonly data: Uint8Array;
  /** Whether the data is stored as a frame of the header's codec. */
  readonly compressed: boolean;
  /** Bytes the data takes in the file: the frame's for a compressed record, else `data.length`. */
  readonly storedBytes: number;
  /** The record as runs of zero and stored pages, in page order. Their `data` are views of `data`. */
  spans(): PageSpan[];
  /** The record with bytes of its own (one allocation, the size of its payload), valid for as long as it is kept. */
  copy(): SnapshotRecord;
}

/**
 * Reads the record at file offset `at`, where `reader` stands, and checks it
 * (docs/FORMAT.md, "Reading", `PAGE`): its fields, its crc32, its zero map.
 * @throws FormatError naming the byte and what was expected there.
 */
export function readRecord(reader: ByteReader, at: number, header: SnapshotFileHeader): RecordView | Promise<RecordView> {
  // Most records are in the reader's buffer already: those are read without a wait.
  if (reader.buffered >= Record.fixedSize) {
    const fixed = checkRecordFields(reader.peek(Record.fixedSize), at, header);
    if (reader.buffered >= fixed.length) return checkRecord(reader, at, header, fixed);
  }
  return readRecordAfterReads(reader, at, header);
}

/** `readRecord` for a record not yet all in the reader's buffer. */
async function readRecordAfterReads(reader: ByteReader, at: number, header: SnapshotFileHeader): Promise<RecordView> {
  if (!(await reader.ensure(Record.fixedSize))) throw truncated(at, Record.fixedSize, 'the fixed part of a record', reader);
  const fixed = checkRecordFields(reader.peek(Record.fixedSize), at, header);
  if (!(await reader.ensure(fixed.length))) throw truncated(at, fixed.length, 'a record', reader);
  return checkRecord(reader, at, header, fixed);
}

/** A record's fixed fields, checked. */
export interface FixedPart {
  readonly blockIndex: number;
  readonly block: BlockInfo;
  readonly page: number;
  readonly count: number;
  readonly via: SaveVia;
  readonly compressed: boolean;
  readonly mapBytes: number;
  readonly stored: number;
  /** Bytes of the whole record, tag through crc. */
  readonly length: number;
}

/**
 * Step 1 of reading a record: its fixed part (the `Record.fixedSize` bytes at
 * file offset `at`), each field within range before the payload is read.
 * Also what a scan of record headers checks (a version 1 file's, for random access).
 * @throws FormatError naming the byte and what was expected there.
 */
export function checkRecordFields(fixed: Buffer, at: number, header: SnapshotFileHeader): FixedPart {
  const { blocks, pageSize } = header;
  const blockIndex = fixed.readUInt32LE(Record.block);
  const block = blocks[blockIndex];
  if (block === undefined) {
    throw new FormatError(at + Record.block, `a block index below ${blocks.length}`, String(blockIndex));
  }
  const page = readU64(fixed, Record.page);
  const count = fixed.readUInt32LE(Record.count);
  if (page === undefined || count < 1 || page + count > block.pages) {
    throw new FormatError(
      at + Record.page,
      `pages within block ${JSON.stringify(block.name)} (pages 0 to ${block.pages - 1})`,
      page === undefined ? 'a first page above 2^53' : `${count} pages from page ${page}`,
    );
  }
  const flags = fixed.readUInt8(Record.flags);
  const knownFlags = header.version === VERSION_1 ? RecordFlags.zeroMap : RecordFlags.zeroMap | RecordFlags.compressed;
  if ((flags & ~knownFlags) !== 0) {
    throw new FormatError(at + Record.flags, `record flags from 0 to ${knownFlags}`, String(flags));
  }
  const compressed = (flags & RecordFlags.compressed) !== 0;
  if (compressed && header.codec === 'none') {
    throw new FormatError(at + Record.flags, 'a record not flagged compressed (the header\'s codec is none)', String(flags));
  }
  const via = VIA_CODES[fixed.readUInt8(Record.via)];
  if (via === undefined) throw new FormatError(at + Record.via, 'a via code 0, 1 or 2', String(fixed.readUInt8(Record.via)));
  const reserved = fixed.readUInt16LE(Record.reserved);
  if (reserved !== 0) throw new FormatError(at + Record.reserved, 'reserved bytes 0', String(reserved));
  const mapBytes = (flags & RecordFlags.zeroMap) !== 0 ? zeroMapBytes(count) : 0;
  const payload = fixed.readUInt32LE(Record.payloadLength);
  const stored = payload - mapBytes;
  const maxStored = mapBytes === 0 ? count : count - 1;
  // A compressed record's data is a frame of any length from 1 byte; a plain record's is whole pages.
  const badLength = compressed
    ? stored < 1
    : stored < 0 || stored % pageSize !== 0 || (mapBytes === 0 && stored !== count * pageSize) || stored > maxStored * pageSize;
  if (badLength) {
    throw new FormatError(
      at + Record.payloadLength,
      compressed
        ? `a payload of ${mapBytes === 0 ? 'a' : `a ${mapBytes}-byte zero map and a`} compressed frame`
        : mapBytes === 0
          ? `a payload of ${count * pageSize} bytes (${count} pages)`
          : `a payload of a ${mapBytes}-byte zero map and up to ${maxStored} pages of ${pageSize} bytes`,
      `${payload} bytes`,
    );
  }

  const length = Record.fixedSize + payload + Record.crcSize;
  return { blockIndex, block, page, count, via, compressed, mapBytes, stored, length };
}

/** Steps 2 to 4 of reading a record, all of it buffered: its crc, its zero map, its data. */
function checkRecord(reader: ByteReader, at: number, header: SnapshotFileHeader, fixed: FixedPart): RecordView {
  const { pageSize } = header;
  const { blockIndex, block, page, count, via, compressed, mapBytes, stored, length } = fixed;
  // Step 2: the whole record, checked against its crc before anything in it is used.
  const bytes = reader.take(length);
  const crcAt = length - Record.crcSize;
  const storedCrc = bytes.readUInt32LE(crcAt);
  const computed = crc32(bytes.subarray(0, crcAt));
  if (storedCrc !== computed) {
    throw new FormatError(at, `a record whose crc32 (stored at byte ${at + crcAt}) is 0x${hex32(storedCrc)}`, `crc32 0x${hex32(computed)}`);
  }

  // Step 3: the zero map agrees with the payload length, and its padding bits are clear.
  const map = bytes.subarray(Record.fixedSize, Record.fixedSize + mapBytes);
  let zeros = 0;
  if (mapBytes !== 0) {
    for (let i = 0; i < count; i++) zeros += ((map[i >>> 3] as number) >>> (i & 7)) & 1;
    const padding = count % 8 === 0 ? 0 : (map[mapBytes - 1] as number) >>> (count % 8);
    if (padding !== 0) throw new FormatError(at + Record.fixedSize + mapBytes - 1, 'zero-map padding bits 0', `0x${padding.toString(16)}`);
    if (zeros === 0 || (!compressed && stored !== (count - zeros) * pageSize) || (compressed && zeros === count)) {
      throw new FormatError(
        at + Record.fixedSize,
        compressed ? 'a zero map with at least one bit set and one clear' : `a zero map with at least one bit set, and ${stored / pageSize} pages stored`,
        `${zeros} zero pages of ${count}`,
      );
    }
  }

  // Step 4: the data, decompressed when it is a frame of the header's codec.
  const frame = bytes.subarray(Record.fixedSize + mapBytes, crcAt);
  const data = compressed ? decompress(header.codec, frame, (count - zeros) * pageSize, at) : frame;
  return new RecordView(at, length, blockIndex, block, page, count, via, zeros, map, data, bytes.subarray(crcAt), pageSize, compressed, frame.length);
}

/** A record over its bytes. */
export class RecordView implements SnapshotRecord {
  constructor(
    readonly offset: number,
    readonly byteLength: number,
    readonly block: number,
    private readonly info: BlockInfo,
    readonly page: number,
    readonly count: number,
    readonly via: SaveVia,
    readonly zeroPages: number,
    private readonly map: Uint8Array,
    readonly data: Uint8Array,
    /** The record's four crc bytes, as stored. */
    readonly crcField: Uint8Array,
    private readonly pageSize: number,
    readonly compressed = false,
    readonly storedBytes = data.length,
  ) {}

  isZero(i: number): boolean {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new RangeError(`Page ${i} is outside this record of ${this.count} pages of block ${JSON.stringify(this.info.name)}`);
    }
    return this.map.length !== 0 && (((this.map[i >>> 3] as number) >>> (i & 7)) & 1) === 1;
  }

  copy(): RecordView {
    // One allocation for the map, the data and the crc, in the record's order.
    const own = new Uint8Array(this.map.length + this.data.length + this.crcField.length);
    own.set(this.map, 0);
    own.set(this.data, this.map.length);
    own.set(this.crcField, this.map.length + this.data.length);
    const dataEnd = this.map.length + this.data.length;
    return new RecordView(
      this.offset,
      this.byteLength,
      this.block,
      this.info,
      this.page,
      this.count,
      this.via,
      this.zeroPages,
      own.subarray(0, this.map.length),
      own.subarray(this.map.length, dataEnd),
      own.subarray(dataEnd),
      this.pageSize,
      this.compressed,
      this.storedBytes,
    );
  }

  spans(): PageSpan[] {
    const spans: PageSpan[] = [];
    let stored = 0;
    for (let i = 0; i < this.count; ) {
      const zero = this.isZero(i);
      let j = i + 1;
      while (j < this.count && this.isZero(j) === zero) j++;
      const n = j - i;
      if (zero) {
        spans.push({ page: this.page + i, count: n, data: null });
      } else {
        spans.push({ page: this.page + i, count: n, data: this.data.subarray(stored * this.pageSize, (stored + n) * this.pageSize) });
        stored += n;
      }
      i = j;
    }
    return spans;
  }
}
