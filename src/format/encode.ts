import { crc32 } from 'node:zlib';
import { OptionError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import type { PageRun, SnapshotHeader } from '../storage/Sink';
import { encodeIdentity } from './identity';
import {
  Codec,
  Header,
  HeaderFlags,
  MAGIC,
  MAX_HEADER_BYTES,
  MAX_STRING_BYTES,
  RECORD_TAG,
  Record,
  RecordFlags,
  TRAILER_TAG,
  Trailer,
  VERSION,
  VIA_CODES,
  maxRecordPages,
  writeU64,
  zeroMapBytes,
} from './layout';
import { PageIndex } from './PageIndex';
import { ZeroPageScanner } from './zeroPages';

/**
 * The header bytes for a snapshot, crc included (docs/FORMAT.md, "Header"),
 * in version 2. A header without an identity gets a full snapshot's, with a
 * fresh random id: hand the same bytes to `RecordEncoder`, whose crcs are
 * seeded with the header's.
 * @throws OptionError naming the field (`header.t0`, `header.blocks[1].name`, `header.identity.parent`, …) that the format cannot hold.
 */
export function encodeHeader(header: SnapshotHeader): Buffer {
  // Step 1: the times, which a reader refuses unless finite…
  for (const field of ['wallTime', 't0'] as const) {
    const value = header[field];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new OptionError(`header.${field}`, 'a finite number of milliseconds (not NaN or ±Infinity)', value);
    }
  }
  // …and the strings, checked against their u16 length fields.
  const strategy = encodeString(header.strategy, 'header.strategy');
  const names = header.blocks.map((b, i) => encodeString(b.name, `header.blocks[${i}].name`));
  const cut = header.cut;
  cut?.forEach((n, i) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new OptionError(`header.cut[${i}]`, 'an integer from 0 up', n);
  });
  if (cut !== undefined && cut.length > 0xffffffff) throw new OptionError('header.cut', 'at most 2^32 - 1 entries', cut);
  const identity = encodeIdentity(header);

  // Step 2: the length, so it can be written up front.
  let length = Header.fixedSize + 2 + strategy.length;
  for (const name of names) length += 2 + name.length + 8;
  if (cut !== undefined) length += 4 + 8 * cut.length;
  length += 4;
  if (length > MAX_HEADER_BYTES) throw new OptionError('header', `a header of at most ${MAX_HEADER_BYTES} bytes`, length);

  // Step 3: the fixed part, the strategy, the block table and the cut, then the crc.
  const out = Buffer.alloc(length);
  out.set(MAGIC, Header.magic);
  out.writeUInt16LE(VERSION, Header.version);
  const flags = (cut === undefined ? 0 : HeaderFlags.hasCut) | (identity.kind === 'incremental' ? HeaderFlags.incremental : 0);
  out.writeUInt16LE(flags, Header.flags);
  out.writeUInt32LE(length, Header.length);
  out.writeUInt32LE(header.pageSize, Header.pageSize);
  out.writeUInt32LE(header.blocks.length, Header.blockCount);
  out.writeDoubleLE(header.wallTime, Header.wallTime);
  out.writeDoubleLE(header.t0, Header.t0);
  out.set(identity.id, Header.id);
  out.set(identity.parent, Header.parent);
  out.set(identity.root, Header.root);
  out.writeUInt32LE(identity.link, Header.link);
  // Records are stored plain for now; a codec plugs in here and in `record` (flag `RecordFlags.compressed`).
  out.writeUInt8(Codec.none, Header.codec);
  let at: number = Header.fixedSize;
  at = writeString(out, at, strategy);
  header.blocks.forEach((b, i) => {
    at = writeString(out, at, names[i] as Buffer);
    writeU64(out, at, b.size);
    at += 8;
  });
  if (cut !== undefined) {
    out.writeUInt32LE(cut.length, at);
    at += 4;
    for (const n of cut) {
      writeU64(out, at, n);
      at += 8;
    }
  }
  out.writeUInt32LE(crc32(out.subarray(0, at)), at);
  return out;
}

function encodeString(text: string, field: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_STRING_BYTES) throw new OptionError(field, `at most ${MAX_STRING_BYTES} UTF-8 bytes`, text);
  return bytes;
}

function writeString(out: Buffer, at: number, bytes: Buffer): number {
  out.writeUInt16LE(bytes.length, at);
  out.set(bytes, at + 2);
  return at + 2 + bytes.length;
}

/**
 * Turns page runs into page records and ends the stream with the page index
 * and the trailer, keeping the index entries, the counts and the stream
 * checksum they hold. Record data is not copied: the chunks it hands out are
 * views of the run's bytes, so they must be written before the run's write
 * completes.
 */
export class RecordEncoder {
  private readonly blocks: readonly BlockInfo[];
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly scanner: ZeroPageScanner;
  /** Scratch: 1 for each zero page of the record being encoded. */
  private isZero = new Uint8Array(64);

  /** Records encoded so far. */
  records = 0;
  /** Pages in them. */
  pages = 0;
  /** Of which zero pages, stored without data. */
  zeroPages = 0;
  /** Bytes of the records, from the end of the header. */
  recordBytes = 0;
  /** crc32 over every record's crc field, in order, starting from the header's crc. */
  private streamCrc: number;
  /** The header's crc, which seeds the stream, index and trailer crcs. */
  private readonly headerCrc: number;
  /** Where each record is, for the index. */
  private readonly index = new PageIndex();
  private ended = false;

  /**
   * @param headerBytes the header as written, from `encodeHeader(header)`
   * (encoded here when not given; read it back as `encoder.headerBytes`).
   * @throws OptionError as `encodeHeader` does.
   */
  constructor(
    header: SnapshotHeader,
    /** The header's bytes, which start the stream. */
    readonly headerBytes: Buffer = encodeHeader(header),
  ) {
    this.headerCrc = headerBytes.readUInt32LE(headerBytes.length - 4);
    this.streamCrc = this.headerCrc;
    this.blocks = header.blocks;
    this.pageSize = header.pageSize;
    this.maxPages = maxRecordPages(header.pageSize);
    this.scanner = new ZeroPageScanner(header.pageSize);
  }

  /**
   * Appends the chunks of the run's records to `out`, in order, and returns
   * their byte count. A run longer than a record can hold becomes several.
   * @throws RangeError when the run is outside its block, its `via` unknown, or its data not `count` pages.
   */
  encode(run: PageRun, out: Uint8Array[]): number {
    const block = this.blocks[run.block];
    if (block === undefined) throw new RangeError(`Run names block index ${run.block}; the snapshot has ${this.blocks.length}`);
    if (!Number.isSafeInteger(run.page) || !Number.isSafeInteger(run.count) || run.page < 0 || run.count < 1 || run.page + run.count > block.pages) {
      throw new RangeError(`Run of ${run.count} pages from page ${run.page} is outside block ${JSON.stringify(block.name)} (${block.pages} pages)`);
    }
    if (!VIA_CODES.includes(run.via)) throw new RangeError(`Run says it came via ${JSON.stringify(run.via)}; the format knows ${VIA_CODES.join(', ')}`);
    if (run.data.length !== run.count * this.pageSize) {
      throw new RangeError(`Run data has ${run.data.length} bytes for ${run.count} pages of ${this.pageSize}: a snapshot stream needs the page bytes`);
    }
    let bytes = 0;
    for (let done = 0; done < run.count; done += this.maxPages) {
      const count = Math.min(this.maxPages, run.count - done);
      const data = run.data.subarray(done * this.pageSize, (done + count) * this.pageSize);
      bytes += this.record(run, run.page + done, count, data, out);
    }
    return bytes;
  }

  private record(run: PageRun, page: number, count: number, data: Uint8Array, out: Uint8Array[]): number {
    const pageSize = this.pageSize;
    // Step 1: which pages are zero; they get a bit in the zero map and no data.
    if (this.isZero.length < count) this.isZero = new Uint8Array(Math.max(count, this.isZero.length * 2));
    const isZero = this.isZero;
    const zeros = this.scanner.scan(data, count, isZero);
    const mapBytes = zeros === 0 ? 0 : zeroMapBytes(count);
    const payload = mapBytes + (count - zeros) * pageSize;

    // Step 2: the fixed part and the zero map.
    const head = Buffer.allocUnsafe(Record.fixedSize + mapBytes);
    head.writeUInt32LE(RECORD_TAG, Record.tag);
    head.writeUInt32LE(run.block, Record.block);
    writeU64(head, Record.page, page);
    head.writeUInt32LE(count, Record.count);
    head.writeUInt8(zeros === 0 ? 0 : RecordFlags.zeroMap, Record.flags);
    head.writeUInt8(VIA_CODES.indexOf(run.via), Record.via);
    head.writeUInt16LE(0, Record.reserved);
    head.writeUInt32LE(payload, Record.payloadLength);
    if (mapBytes !== 0) {
      const map = head.subarray(Record.fixedSize).fill(0);
      for (let i = 0; i < count; i++) {
        if (isZero[i] === 1) map[i >>> 3] = (map[i >>> 3] as number) | (1 << (i & 7));
      }
    }
    out.push(head);
    let crc = crc32(head);

    // Step 3: the data, as views of the non-zero spans, and the crc over all of it.
    for (let i = 0; i < count; ) {
      if (isZero[i] === 1) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < count && isZero[j] === 0) j++;
      const span = data.subarray(i * pageSize, j * pageSize);
      crc = crc32(span, crc);
      out.push(span);
      i = j;
    }
    const tail = Buffer.allocUnsafe(Record.crcSize);
    tail.writeUInt32LE(crc, 0);
    out.push(tail);

    // Step 4: what the index and the trailer will hold.
    this.index.push(this.headerBytes.length + this.recordBytes, run.block, page, count);
    this.streamCrc = crc32(tail, this.streamCrc);
    this.records++;
    this.pages += count;
    this.zeroPages += zeros;
    const bytes = Record.fixedSize + payload + Record.crcSize;
    this.recordBytes += bytes;
    return bytes;
  }

  /**
   * The end of the stream: the page index, then the trailer (counts, the
   * index's offset, the stream checksum, its own crc). Called once, after
   * the last record.
   */
  end(): Buffer[] {
    if (this.ended) throw new Error('A RecordEncoder ends its stream once');
    this.ended = true;
    const index = this.index.encode(this.headerCrc);
    const out = Buffer.alloc(Trailer.size);
    out.writeUInt32LE(TRAILER_TAG, Trailer.tag);
    writeU64(out, Trailer.records, this.records);
    writeU64(out, Trailer.pages, this.pages);
    writeU64(out, Trailer.zeroPages, this.zeroPages);
    writeU64(out, Trailer.recordBytes, this.recordBytes);
    writeU64(out, Trailer.indexOffset, this.headerBytes.length + this.recordBytes);
    out.writeUInt32LE(this.streamCrc, Trailer.streamCrc);
    out.writeUInt32LE(crc32(out.subarray(0, Trailer.crc), this.headerCrc), Trailer.crc);
    return [index, out];
  }
}
