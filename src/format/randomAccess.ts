import { FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import { ByteReader } from './ByteReader';
import type { ByteSource } from './ByteSource';
import { decodeHeader, type DecodedHeader, type SnapshotFileHeader } from './decodeHeader';
import { Header, INDEX_TAG, Index, RECORD_TAG, TRAILER_TAG, Trailer, VERSION_1, indexBytes } from './layout';
import type { PageIndex } from './PageIndex';
import { hex } from './problems';
import { readRecord, type SnapshotRecord } from './record';
import { entryFieldAt, readIndexSection, trailerFields, type SnapshotTrailer } from './sections';

/** Bytes read for the header and for one record's first read. */
const SMALL_READ_BYTES = 64 * 1024;

/**
 * A version 2 snapshot opened for random access: its header, trailer and
 * page index, each checked against its crc, so that any page's record can be
 * read alone (`readRecordAt`).
 */
export class SnapshotIndex {
  constructor(
    readonly decoded: DecodedHeader,
    readonly trailer: SnapshotTrailer,
    /** The index entries, in stream order. */
    readonly entries: PageIndex,
  ) {}

  get header(): SnapshotFileHeader {
    return this.decoded.header;
  }

  /** The entry whose record holds global page `page` (blocks one after another), or -1 when none does. */
  find(page: number): number {
    return this.entries.find(this.header.blocks, page);
  }
}

/**
 * Reads a snapshot's header, then its trailer from the end of the source,
 * then its page index at the trailer's `indexOffset`, each checked against
 * its crc (docs/FORMAT.md, "Reading": a reader that seeks). Reads no record.
 * @throws FormatError naming the byte; a version 1 file has no index.
 */
export async function readIndex(source: ByteSource): Promise<SnapshotIndex> {
  // Step 1: the header.
  const decoded = await decodeHeader(new ByteReader(source, SMALL_READ_BYTES));
  const { header } = decoded;
  if (header.version === VERSION_1) throw new FormatError(Header.version, 'format version 2 (version 1 has no index)', 'version 1');

  // Step 2: the trailer, the last 56 bytes, checked against its crc.
  const minEnd = header.byteLength + indexBytes(0) + Trailer.size;
  if (source.size < minEnd) {
    throw new FormatError(header.byteLength, `an index and a trailer: the file ends at byte ${source.size}, before byte ${minEnd}`, 'the end of the file');
  }
  const at = source.size - Trailer.size;
  const reader = new ByteReader(source, Trailer.size, at);
  await reader.ensure(Trailer.size);
  const bytes = reader.take(Trailer.size);
  if (bytes.readUInt32LE(Trailer.tag) !== TRAILER_TAG) throw new FormatError(at, "the trailer (tag 'TRLR') in the last 56 bytes", `the bytes ${hex(bytes.subarray(0, 4))}`);
  const fields = trailerFields(bytes, at, decoded);

  // Step 3: the index where the trailer says, right before the trailer.
  const { records, pages, zeroPages, recordBytes, indexOffset } = fields;
  if (records === undefined || pages === undefined || zeroPages === undefined || recordBytes === undefined || indexOffset === undefined) {
    throw new FormatError(at, 'trailer counts at most 2^53 - 1', 'a larger number');
  }
  if (indexOffset !== header.byteLength + recordBytes || indexOffset + indexBytes(records) !== at) {
    throw new FormatError(at + Trailer.indexOffset, `an index offset of ${at - indexBytes(records)} (headerLength + recordBytes, and right before the trailer)`, String(indexOffset));
  }
  const indexReader = new ByteReader(source, Math.min(SMALL_READ_BYTES, indexBytes(records)), indexOffset);
  await indexReader.ensure(4);
  if (indexReader.peek(4).readUInt32LE(0) !== INDEX_TAG) {
    throw new FormatError(indexOffset, "the index (tag 'INDX')", `the bytes ${hex(indexReader.peek(4))}`);
  }
  const entries = await readIndexSection(indexReader, indexOffset, decoded, records);

  // Step 4: each entry within its block and the records' bytes, in stream order; the pages add up.
  let previous = header.byteLength - 1;
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const block: BlockInfo | undefined = header.blocks[entries.block(i)];
    const offset = entries.offset(i);
    if (offset <= previous || offset >= indexOffset) {
      throw new FormatError(entryFieldAt(indexOffset, i, Index.entryOffset), `a record offset after ${previous} and before the index at ${indexOffset}`, String(offset));
    }
    if (block === undefined || entries.count(i) < 1 || entries.firstPage(i) + entries.count(i) > block.pages) {
      throw new FormatError(entryFieldAt(indexOffset, i, Index.entryFirstPage), `index entry ${i} within a block of the header`, `${entries.count(i)} pages from page ${entries.firstPage(i)} of block ${entries.block(i)}`);
    }
    previous = offset;
    total += entries.count(i);
  }
  if (total !== pages) throw new FormatError(at + Trailer.pages, `a page count of ${total}, as the index adds up`, String(pages));
  const trailer: SnapshotTrailer = { offset: at, byteLength: Trailer.size, records, pages, zeroPages, recordBytes, indexOffset, streamCrc: fields.streamCrc };
  return new SnapshotIndex(decoded, trailer, entries);
}

/**
 * Reads the record at file offset `offset` (an index entry's) alone, checked
 * against its crc32 and its fields. The record has bytes of its own.
 * @throws FormatError naming the byte.
 */
export async function readRecordAt(source: ByteSource, header: SnapshotFileHeader, offset: number): Promise<SnapshotRecord> {
  const reader = new ByteReader(source, SMALL_READ_BYTES, offset);
  if (!(await reader.ensure(4)) || reader.peek(4).readUInt32LE(0) !== RECORD_TAG) {
    throw new FormatError(offset, "a record (tag 'PAGE')", reader.buffered === 0 ? 'the end of the file' : `the bytes ${hex(reader.peek(4))}`);
  }
  // The reader is this record's alone: its views stay valid.
  return readRecord(reader, offset, header);
}
