import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { FormatError } from '../errors';
import { ByteReader } from './ByteReader';
import { fileSource, locationName, openLocation, type ByteSource, type SnapshotLocation } from './ByteSource';
import { decodeHeader, type DecodedHeader, type SnapshotFileHeader } from './decodeHeader';
import { INDEX_TAG, Index, RECORD_TAG, TRAILER_TAG, VERSION_1 } from './layout';
import { PageIndex } from './PageIndex';
import { hex, hex32, truncated } from './problems';
import { readRecord, RecordView, type SnapshotRecord } from './record';
import { entryFieldAt, readIndexSection, trailerFields, trailerLayout, type SnapshotTrailer } from './sections';

export type { PageSpan, SnapshotRecord } from './record';
export type { SnapshotTrailer } from './sections';

/** An open snapshot file: its header, then its records, read once front to back. */
export interface SnapshotFile {
  readonly path: string;
  readonly header: SnapshotFileHeader;
  /**
   * The page records in save order. The file is read as a stream; each record
   * is checked against its crc32 before it is yielded, and the index and the
   * trailer against the records when they end. Each record is valid until
   * the iteration moves on; keep one with `record.copy()`. Can be iterated
   * once; the file is closed when the iteration ends, however it ends.
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
 * Opens a snapshot (version 1 or 2) and reads its header: a file by its
 * path, or a `SnapshotSource` (an object: `s3Source` in `bgsnap/s3`).
 * @throws FormatError when the header is not a valid snapshot header; the file is closed then.
 * @example
 * const file = await openSnapshot('guest.bgsnap');
 * for await (const record of file.records()) console.log(record.block, record.page, record.count);
 */
export async function openSnapshot(location: SnapshotLocation): Promise<SnapshotFile> {
  const source = await openLocation(location);
  try {
    return await readSnapshotSource(source, locationName(location), { close: () => source.close() });
  } catch (error) {
    await source.close();
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
  const close = options.ownsHandle === true ? () => handle.close() : undefined;
  return readSnapshotSource(fileSource(handle, size), path, { chunkBytes: options.chunkBytes, close });
}

/**
 * Reads the snapshot in `source` from byte 0, as `readSnapshot` does a file:
 * the header now, the records when iterated.
 * @param name what to call the source (a path, an object key).
 * @param options.close called once when the reader closes.
 * @throws FormatError when the header is not a valid snapshot header.
 */
export async function readSnapshotSource(
  source: ByteSource,
  name: string,
  options: { readonly chunkBytes?: number | undefined; readonly close?: (() => Promise<void>) | undefined } = {},
): Promise<SnapshotFileReader> {
  // A buffer of 4 MiB, or the whole file when it is smaller; it grows for larger records.
  const reader = new ByteReader(source, options.chunkBytes ?? Math.max(64 * 1024, Math.min(4 * 1024 * 1024, source.size)));
  const decoded = await decodeHeader(reader);
  return new SnapshotFileReader(name, options.close, reader, decoded);
}

/** What the records read add up to, for the index and trailer checks. */
interface ReadCounts {
  records: number;
  pages: number;
  zeroPages: number;
  streamCrc: number;
  /** Version 2: where each record was. */
  readonly entries: PageIndex | undefined;
  /** Version 2: the index's offset, once it has been read. */
  indexOffset: number | undefined;
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
    private readonly onClose: (() => Promise<void>) | undefined,
    private readonly reader: ByteReader,
    /** The header, with where its block table entries are and its crc. */
    readonly decoded: DecodedHeader,
  ) {
    this.header = decoded.header;
  }

  async *records(): AsyncGenerator<SnapshotRecord, void, undefined> {
    if (this.iterated) throw new Error('The records of a snapshot file can be iterated once');
    this.iterated = true;
    const reader = this.reader;
    const v1 = this.header.version === VERSION_1;
    // Counts for the index and trailer checks; version 2's stream crc starts from the header's.
    const read: ReadCounts = { records: 0, pages: 0, zeroPages: 0, streamCrc: this.decoded.crc, entries: v1 ? undefined : new PageIndex(), indexOffset: undefined };
    try {
      for (;;) {
        // Step 1: a tag says what comes next: a record, the index (version 2) or the trailer.
        const at = reader.position;
        const next = v1
          ? "a record (tag 'PAGE') or the trailer (tag 'TRLR')"
          : read.indexOffset === undefined
            ? "a record (tag 'PAGE') or the index (tag 'INDX')"
            : "the trailer (tag 'TRLR') after the index";
        if (!(reader.buffered >= 4 || (await reader.ensure(4)))) {
          throw reader.buffered === 0 ? new FormatError(at, next, 'the end of the file') : truncated(at, 4, 'a record, index or trailer tag', reader);
        }
        const tag = reader.peek(4).readUInt32LE(0);
        if (tag === TRAILER_TAG && (v1 || read.indexOffset !== undefined)) {
          this.trailerOffset = at;
          this.trailer = await this.readTrailer(at, read);
          return;
        }
        if (tag === INDEX_TAG && !v1 && read.indexOffset === undefined) {
          await this.readIndex(at, read);
          continue;
        }
        if (tag !== RECORD_TAG || read.indexOffset !== undefined) throw new FormatError(at, next, `the bytes ${hex(reader.peek(4))}`);
        // Step 2: the record, checked, then counted.
        // Without a wait when the record is buffered: a chain's small records are read by the thousand.
        const pending = readRecord(reader, at, this.header);
        const record = pending instanceof RecordView ? pending : await pending;
        read.records++;
        read.pages += record.count;
        read.zeroPages += record.zeroPages;
        read.streamCrc = crc32(record.crcField, read.streamCrc);
        read.entries?.push(at, record.block, record.page, record.count);
        yield record;
      }
    } finally {
      await this.close();
    }
  }

  close(): Promise<void> {
    this.closing ??= this.onClose === undefined ? Promise.resolve() : this.onClose();
    return this.closing;
  }

  /** The index, checked against its crc and, entry by entry, against the records read. */
  private async readIndex(at: number, read: ReadCounts): Promise<void> {
    const index = await readIndexSection(this.reader, at, this.decoded, read.records);
    const entries = read.entries as PageIndex;
    for (let i = 0; i < entries.length; i++) {
      const fields: [number, number, number, string][] = [
        [Index.entryOffset, index.offset(i), entries.offset(i), 'offset'],
        [Index.entryFirstPage, index.firstPage(i), entries.firstPage(i), 'first page'],
        [Index.entryBlock, index.block(i), entries.block(i), 'block'],
        [Index.entryCount, index.count(i), entries.count(i), 'page count'],
      ];
      for (const [field, stored, actual, what] of fields) {
        if (stored !== actual) throw new FormatError(entryFieldAt(at, i, field), `index entry ${i} with the ${what} of record ${i}, ${actual}`, String(stored));
      }
    }
    read.indexOffset = at;
  }

  private async readTrailer(at: number, read: ReadCounts): Promise<SnapshotTrailer> {
    const reader = this.reader;
    const layout = trailerLayout(this.decoded);
    // Step 1: the trailer, checked against its crc.
    if (!(await reader.ensure(layout.size))) throw truncated(at, layout.size, 'the trailer', reader);
    const bytes = reader.take(layout.size);
    const fields = trailerFields(bytes, at, this.decoded);

    // Step 2: its counts, the index's place and the stream checksum against what was read.
    const end = read.indexOffset ?? at;
    const expect = (field: 'records' | 'pages' | 'zeroPages' | 'recordBytes' | 'indexOffset', actual: number, what: string): number => {
      const value = fields[field];
      const fieldAt = at + ((layout as Partial<Record<string, number>>)[field] ?? 0);
      if (value !== actual) throw new FormatError(fieldAt, `${what} of ${actual}, as read`, `${value ?? 'more than 2^53'}`);
      return value;
    };
    const trailer: SnapshotTrailer = {
      offset: at,
      byteLength: layout.size,
      records: expect('records', read.records, 'a record count'),
      pages: expect('pages', read.pages, 'a page count'),
      zeroPages: expect('zeroPages', read.zeroPages, 'a zero-page count'),
      recordBytes: expect('recordBytes', end - this.header.byteLength, 'a record byte count'),
      indexOffset: read.indexOffset === undefined ? undefined : expect('indexOffset', read.indexOffset, 'an index offset'),
      streamCrc: fields.streamCrc,
    };
    if (trailer.streamCrc !== read.streamCrc) {
      throw new FormatError(at + layout.streamCrc, `a stream checksum of 0x${hex32(read.streamCrc)}, as read`, `0x${hex32(trailer.streamCrc)}`);
    }

    // Step 3: nothing after it.
    if (await reader.ensure(1)) {
      const after = at + layout.size;
      throw new FormatError(after, `the end of the file after the trailer`, `more bytes (the file goes on past byte ${after})`);
    }
    return trailer;
  }
}
