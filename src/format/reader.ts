import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import type { SaveVia } from '../storage/Sink';
import { ByteReader } from './ByteReader';
import { decodeHeader, type SnapshotFileHeader } from './decodeHeader';
import { RECORD_TAG, Record, RecordFlags, TRAILER_TAG, Trailer, VIA_CODES, readU64, zeroMapBytes } from './layout';
import { hex, hex32, truncated } from './problems';

/** Contiguous pages of a record that are all zero (`data` null) or all stored. */
export interface PageSpan {
  /** First page of the span, counted within the block. */
  readonly page: number;
  readonly count: number;
  /** The pages' bytes, or `null` for zero pages. */
  readonly data: Uint8Array | null;
}

/** One page record, checked against its crc32. Its views are valid until the iteration moves on. */
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
  /** The stored pages' bytes, in page order, zero pages left out. */
  readonly data: Uint8Array;
  /** The record as runs of zero and stored pages, in page order. */
  spans(): PageSpan[];
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
   * the records when they end. Can be iterated once; the file is closed when
   * the iteration ends, however it ends.
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
 * const file = await openSnapshot('guest.snap');
 * for await (const record of file.records()) console.log(record.block, record.page, record.count);
 */
export async function openSnapshot(path: string): Promise<SnapshotFile> {
  const handle = await open(path, 'r');
  let reader: ByteReader;
  try {
    // A buffer of 4 MiB, or the whole file when it is smaller; it grows for larger records.
    const { size } = await handle.stat();
    reader = new ByteReader(handle, Math.max(64 * 1024, Math.min(4 * 1024 * 1024, size)));
  } catch (error) {
    await handle.close();
    throw error;
  }
  try {
    const header = await decodeHeader(reader);
    return new SnapshotFileReader(path, handle, reader, header);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

class SnapshotFileReader implements SnapshotFile {
  trailer: SnapshotTrailer | undefined;
  trailerOffset: number | undefined;
  private iterated = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly reader: ByteReader,
    readonly header: SnapshotFileHeader,
  ) {}

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
    this.closing ??= this.handle.close();
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
