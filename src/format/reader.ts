import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import type { SaveVia } from '../storage/Sink';
import { ByteReader } from './ByteReader';
import { decodeHeader, type DecodedHeader, type SnapshotFileHeader } from './decodeHeader';
import { RECORD_TAG, Record, RecordFlags, TRAILER_TAG, Trailer, VIA_CODES, readU64, zeroMapBytes } from './layout';
import { hex, hex32, truncated } from './problems';

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
  /** The stored pages' bytes, in page order, zero pages left out. A view: see the lifetime above. */
  readonly data: Uint8Array;
  /** The record as runs of zero and stored pages, in page order. Their `data` are views of `data`. */
  spans(): PageSpan[];
  /** The record with bytes of its own (one allocation, the size of its payload), valid for as long as it is kept. */
  copy(): SnapshotRecord;
}

/** The trailer, checked against its crc32 and against the records read. */
export interface SnapshotTrailer {
  /** Byte offset of the trailer in the file. */
  readonly offset: number;
  readonly records: number;
  readonly pages: number;
  readonly zeroPages: number;
  /** Bytes of all records, from the end of the header to the trailer. */
  readonly recordBytes: number;
  /** crc32 over every record's crc field, in order. */
  readonly streamCrc: number;
}

/** An open snapshot file: its header, then its records, read once front to back. */
export interface SnapshotFile {
  readonly path: string;
  readonly header: SnapshotFileHeader;
  /**
   * The page records in save order. The file is read as a stream; each record
   * is checked against its crc32 before it is yielded, and the trailer against
   * the records when they end. Each record is valid until the iteration
   * moves on; keep one with `record.copy()`. Can be iterated once; the file
   * is closed when the iteration ends, however it ends.
   * @throws FormatError (from the iteration) naming the byte and what was expected.
   */
  records(): AsyncGenerator<SnapshotRecord, void, undefined>;
  /** The trailer, once the iteration has reached and checked it. */
  readonly trailer: SnapshotTrailer | undefined;
  /** Byte offset of the trailer, once the iteration has reached it (even if it then failed a check). */
  readonly trailerOffset: number | undefined;
  /** Closes the file. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens a snapshot file and reads its header.
 * @throws FormatError when the header is not a valid snapshot header; the file is closed then.
 * @example
 * const file = await openSnapshot('guest.bgsnap');
 * for await (const record of file.records()) console.log(record.block, record.page, record.count);
 */
export async function openSnapshot(path: string): Promise<SnapshotFile> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return await readSnapshot(handle, path, size, { ownsHandle: true });
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** How `readSnapshot` reads. */
export interface ReadSnapshotOptions {
  /** Close the handle when the reader is closed. @default false */
  readonly ownsHandle?: boolean;
  /** Bytes of the first read. @default 4 MiB, or the whole file when it is smaller (at least 64 KiB) */
  readonly chunkBytes?: number;
}

/**
 * Reads the snapshot on an open handle from byte 0: the header now, the
 * records when iterated. Each call reads from the start, so one handle can
 * be read several times (verify, then restore, the same file). Unless it
 * owns the handle, the reader leaves it open when it closes.
 * @param size the file's size, from the handle's `stat`.
 * @throws FormatError when the header is not a valid snapshot header.
 */
export async function readSnapshot(handle: FileHandle, path: string, size: number, options: ReadSnapshotOptions = {}): Promise<SnapshotFileReader> {
  // A buffer of 4 MiB, or the whole file when it is smaller; it grows for larger records.
  const reader = new ByteReader(handle, size, options.chunkBytes ?? Math.max(64 * 1024, Math.min(4 * 1024 * 1024, size)));
  const decoded = await decodeHeader(reader);
  return new SnapshotFileReader(path, handle, options.ownsHandle ?? false, reader, decoded);
}

/** A snapshot file being read; `openSnapshot` and `readSnapshot` return it as a `SnapshotFile`. */
export class SnapshotFileReader implements SnapshotFile {
  trailer: SnapshotTrailer | undefined;
  trailerOffset: number | undefined;
  readonly header: SnapshotFileHeader;
  private iterated = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly ownsHandle: boolean,
    private readonly reader: ByteReader,
    /** The header, with where its block table entries are. */
    readonly decoded: DecodedHeader,
  ) {
    this.header = decoded.header;
  }

  async *records(): AsyncGenerator<SnapshotRecord, void, undefined> {
    if (this.iterated) throw new Error('The records of a snapshot file can be iterated once');
    this.iterated = true;
    const reader = this.reader;
    // Counts for the trailer check.
    let records = 0;
    let pages = 0;
    let zeroPages = 0;
    let streamCrc = 0;
    try {
      for (;;) {
        // Step 1: a tag says what comes next: a record or the trailer.
        const at = reader.position;
        if (!(await reader.ensure(4))) {
          throw reader.buffered === 0
            ? new FormatError(at, "a record (tag 'PAGE') or the trailer (tag 'TRLR')", 'the end of the file')
            : truncated(at, 4, 'a record or trailer tag', reader);
        }
        const tag = reader.peek(4).readUInt32LE(0);
        if (tag === TRAILER_TAG) {
          this.trailerOffset = at;
          this.trailer = await this.readTrailer(at, { records, pages, zeroPages, streamCrc });
          return;
        }
        if (tag !== RECORD_TAG) {
          throw new FormatError(at, "a record (tag 'PAGE') or the trailer (tag 'TRLR')", `the bytes ${hex(reader.peek(4))}`);
        }
        // Step 2: the record, checked, then counted.
        const record = await this.readRecord(at);
        records++;
        pages += record.count;
        zeroPages += record.zeroPages;
        streamCrc = crc32(record.crcField, streamCrc);
        yield record;
      }
    } finally {
      await this.close();
    }
  }

  close(): Promise<void> {
    this.closing ??= this.ownsHandle ? this.handle.close() : Promise.resolve();
    return this.closing;
  }

  private async readRecord(at: number): Promise<RecordView> {
    const reader = this.reader;
    const { blocks, pageSize } = this.header;
    // Step 1: the fixed part, each field within range before the payload is read.
    if (!(await reader.ensure(Record.fixedSize))) throw truncated(at, Record.fixedSize, 'the fixed part of a record', reader);
    const fixed = reader.peek(Record.fixedSize);
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
    if ((flags & ~RecordFlags.zeroMap) !== 0) throw new FormatError(at + Record.flags, 'record flags 0 or 1', String(flags));
    const via = VIA_CODES[fixed.readUInt8(Record.via)];
    if (via === undefined) throw new FormatError(at + Record.via, 'a via code 0, 1 or 2', String(fixed.readUInt8(Record.via)));
    const reserved = fixed.readUInt16LE(Record.reserved);
    if (reserved !== 0) throw new FormatError(at + Record.reserved, 'reserved bytes 0', String(reserved));
    const mapBytes = (flags & RecordFlags.zeroMap) !== 0 ? zeroMapBytes(count) : 0;
    const payload = fixed.readUInt32LE(Record.payloadLength);
    const stored = payload - mapBytes;
    const maxStored = mapBytes === 0 ? count : count - 1;
    if (stored < 0 || stored % pageSize !== 0 || (mapBytes === 0 && stored !== count * pageSize) || stored > maxStored * pageSize) {
      throw new FormatError(
        at + Record.payloadLength,
        mapBytes === 0
          ? `a payload of ${count * pageSize} bytes (${count} pages)`
          : `a payload of a ${mapBytes}-byte zero map and up to ${maxStored} pages of ${pageSize} bytes`,
        `${payload} bytes`,
      );
    }

    // Step 2: the whole record, checked against its crc before anything in it is used.
    const length = Record.fixedSize + payload + Record.crcSize;
    if (!(await reader.ensure(length))) throw truncated(at, length, 'a record', reader);
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
      if (zeros === 0 || stored !== (count - zeros) * pageSize) {
        throw new FormatError(
          at + Record.fixedSize,
          `a zero map with at least one bit set, and ${stored / pageSize} pages stored`,
          `${zeros} zero pages of ${count}`,
        );
      }
    }
    return new RecordView(at, length, blockIndex, block, page, count, via, zeros, map, bytes.subarray(Record.fixedSize + mapBytes, crcAt), bytes.subarray(crcAt), pageSize);
  }

  private async readTrailer(
    at: number,
    read: { records: number; pages: number; zeroPages: number; streamCrc: number },
  ): Promise<SnapshotTrailer> {
    const reader = this.reader;
    // Step 1: the trailer, checked against its crc.
    if (!(await reader.ensure(Trailer.size))) throw truncated(at, Trailer.size, 'the trailer', reader);
    const bytes = reader.take(Trailer.size);
    const stored = bytes.readUInt32LE(Trailer.crc);
    const computed = crc32(bytes.subarray(0, Trailer.crc));
    if (stored !== computed) {
      throw new FormatError(at, `a trailer whose crc32 (stored at byte ${at + Trailer.crc}) is 0x${hex32(stored)}`, `crc32 0x${hex32(computed)}`);
    }
    if (bytes.readUInt32LE(Trailer.reserved) !== 0) throw new FormatError(at + Trailer.reserved, 'reserved bytes 0', String(bytes.readUInt32LE(Trailer.reserved)));

    // Step 2: its counts and stream checksum against what was read.
    const recordBytes = at - this.header.byteLength;
    const expect = (field: keyof typeof Trailer & keyof SnapshotTrailer, actual: number, what: string): number => {
      const value = readU64(bytes, Trailer[field]);
      if (value !== actual) throw new FormatError(at + Trailer[field], `${what} of ${actual}, as read`, `${value ?? 'more than 2^53'}`);
      return value;
    };
    const trailer: SnapshotTrailer = {
      offset: at,
      records: expect('records', read.records, 'a record count'),
      pages: expect('pages', read.pages, 'a page count'),
      zeroPages: expect('zeroPages', read.zeroPages, 'a zero-page count'),
      recordBytes: expect('recordBytes', recordBytes, 'a record byte count'),
      streamCrc: bytes.readUInt32LE(Trailer.streamCrc),
    };
    if (trailer.streamCrc !== read.streamCrc) {
      throw new FormatError(at + Trailer.streamCrc, `a stream checksum of 0x${hex32(read.streamCrc)}, as read`, `0x${hex32(trailer.streamCrc)}`);
    }

    // Step 3: nothing after it.
    if (await reader.ensure(1)) {
      const end = at + Trailer.size;
      throw new FormatError(end, `the end of the file after the trailer`, `more bytes (the file goes on past byte ${end})`);
    }
    return trailer;
  }
}

class RecordView implements SnapshotRecord {
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
  ) {}

  isZero(i: number): boolean {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new RangeError(`Page ${i} is outside this record of ${this.count} pages of block ${JSON.stringify(this.info.name)}`);
    }
    return this.map.length !== 0 && (((this.map[i >>> 3] as number) >>> (i & 7)) & 1) === 1;
  }

  copy(): SnapshotRecord {
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
