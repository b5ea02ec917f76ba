import { crc32 } from 'node:zlib';
import { FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import { MAX_PAGE_SIZE, MIN_PAGE_SIZE } from '../memory/geometry';
import type { SnapshotHeader, SnapshotIdentity, SnapshotKind } from '../storage/Sink';
import type { ByteReader } from './ByteReader';
import {
  CODEC_NAMES,
  Header,
  HeaderFlags,
  ID_BYTES,
  Index,
  MAGIC,
  MAX_HEADER_BYTES,
  Trailer,
  TrailerV1,
  VERSION,
  VERSION_1,
  readU64,
  type CodecName,
} from './layout';
import { unsupportedCodec } from './codecs';
import { hex, hex32, truncated } from './problems';
import { bytesToUuid, isNoId } from './uuid';

/** The header as read from a snapshot file. */
export interface SnapshotFileHeader extends SnapshotHeader {
  /** Format version: 1 or 2. */
  readonly version: number;
  /** Bytes of the header, crc included: the first record starts at this offset. */
  readonly byteLength: number;
  /** Whether the snapshot holds every page; a version 1 snapshot is full. */
  readonly kind: SnapshotKind;
  /** The snapshot's id and place in its chain; `undefined` for version 1, which has none. */
  readonly identity: SnapshotIdentity | undefined;
  /** How records flagged compressed are compressed (`none` for version 1). */
  readonly codec: CodecName;
}

/** A header as decoded, with where each block table entry starts. */
export interface DecodedHeader {
  readonly header: SnapshotFileHeader;
  /** File offset of each block table entry (its name's length field), in block order. */
  readonly blockEntryOffsets: readonly number[];
  /** The header's crc32, which seeds version 2's stream, index and trailer crcs (0 for version 1). */
  readonly crc: number;
}

/** Smallest header: the fixed part, an empty strategy name, one block with a one-byte name, the crc. */
const minHeaderBytes = (fixedSize: number) => fixedSize + 2 + (2 + 1 + 8) + 4;
/** Strings are UTF-8; a leading U+FEFF is part of a name, not a byte-order mark to drop. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
  // (The first 16 bytes are the same in every version; they say how long the rest is.)
  if (!(await reader.ensure(16))) throw truncated(0, 16, 'the first 16 bytes of the header', reader);
  const first = reader.peek(16);
  const version = first.readUInt16LE(Header.version);
  if (version !== VERSION && version !== VERSION_1) {
    throw new FormatError(Header.version, `format version ${VERSION_1} or ${VERSION}`, `version ${version}`);
  }
  const fixedSize = version === VERSION_1 ? Header.fixedSizeV1 : Header.fixedSize;
  const knownFlags = version === VERSION_1 ? HeaderFlags.hasCut : HeaderFlags.hasCut | HeaderFlags.incremental;
  const flags = first.readUInt16LE(Header.flags);
  if ((flags & ~knownFlags) !== 0) {
    throw new FormatError(Header.flags, `header flags with no bit above ${version === VERSION_1 ? 'bit 0' : 'bit 1'} set`, `0x${flags.toString(16)}`);
  }
  const length = first.readUInt32LE(Header.length);
  const minLength = minHeaderBytes(fixedSize);
  if (length < minLength || length > MAX_HEADER_BYTES) {
    throw new FormatError(Header.length, `a header length from ${minLength} to ${MAX_HEADER_BYTES}`, String(length));
  }

  // Step 2: the whole header, checked against its crc before any field is trusted.
  if (!(await reader.ensure(length))) throw truncated(0, length, 'the header', reader);
  const bytes = reader.take(length);
  const fixed = bytes.subarray(0, fixedSize);
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
  const kind: SnapshotKind = (flags & HeaderFlags.incremental) !== 0 ? 'incremental' : 'full';
  const identity = version === VERSION_1 ? undefined : decodeIdentity(fixed, kind);
  const codec = version === VERSION_1 ? 'none' : decodeCodec(fixed);

  // Step 4: the variable part, never reading past the crc.
  const cursor = new HeaderCursor(bytes, fixedSize, crcAt);
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
  const header: SnapshotFileHeader = { version, byteLength: length, kind, identity, codec, pageSize, blocks, t0, wallTime, strategy };
  return { header: cut === undefined ? header : { ...header, cut }, blockEntryOffsets, crc: version === VERSION_1 ? 0 : stored };
}

/** Version 2's id, parent, root and link, which must agree with the incremental flag. */
function decodeIdentity(fixed: Buffer, kind: SnapshotKind): SnapshotIdentity {
  const idAt = (at: number) => fixed.subarray(at, at + ID_BYTES);
  const id = idAt(Header.id);
  const parent = idAt(Header.parent);
  const root = idAt(Header.root);
  const link = fixed.readUInt32LE(Header.link);
  if (isNoId(id)) throw new FormatError(Header.id, 'a snapshot id that is not all zero', 'all zero');
  if (kind === 'full') {
    // A full snapshot: no parent, link 0, its own root.
    if (!isNoId(parent)) throw new FormatError(Header.parent, 'an all-zero parent (flags say full)', bytesToUuid(parent));
    if (!root.equals(id)) throw new FormatError(Header.root, `the snapshot's own id ${bytesToUuid(id)} as root (flags say full)`, bytesToUuid(root));
    if (link !== 0) throw new FormatError(Header.link, 'link 0 (flags say full)', String(link));
    return { id: bytesToUuid(id), root: bytesToUuid(root), link };
  }
  // An incremental snapshot: a parent other than itself, a root other than itself, link 1 up.
  if (isNoId(parent) || parent.equals(id)) {
    throw new FormatError(Header.parent, "a parent id that is neither all zero nor the snapshot's own (flags say incremental)", bytesToUuid(parent));
  }
  if (isNoId(root) || root.equals(id)) {
    throw new FormatError(Header.root, "a root id that is neither all zero nor the snapshot's own (flags say incremental)", bytesToUuid(root));
  }
  if (link < 1) throw new FormatError(Header.link, 'a link from 1 up (flags say incremental)', String(link));
  return { id: bytesToUuid(id), parent: bytesToUuid(parent), root: bytesToUuid(root), link };
}

/** Version 2's codec byte and the reserved bytes after it. */
function decodeCodec(fixed: Buffer): CodecName {
  const code = fixed.readUInt8(Header.codec);
  const codec = CODEC_NAMES[code];
  if (codec === undefined) throw new FormatError(Header.codec, `a codec from 0 to ${CODEC_NAMES.length - 1}`, String(code));
  const unsupported = unsupportedCodec(Header.codec, codec);
  if (unsupported !== undefined) throw unsupported;
  for (let at = Header.reserved; at < Header.fixedSize; at++) {
    if (fixed[at] !== 0) throw new FormatError(at, 'reserved bytes 0', String(fixed[at]));
  }
  return codec;
}

/**
 * Checks a full snapshot header's page count against what a file of `fileSize` bytes can
 * hold: every page takes at least one zero-map bit, and the trailer and an
 * empty index 76 bytes (version 1's trailer 48), so a complete file holds at
 * most 8 × (fileSize − headerLength − 76) pages.
 * Lets a reader refuse a header that claims more before it allocates anything
 * per page.
 * @returns a problem naming the block table entry at which the count passes
 * that, or `undefined` when the file can hold every page.
 */
export function pageCountProblem({ header, blockEntryOffsets }: DecodedHeader, fileSize: number): FormatError | undefined {
  // An incremental snapshot holds some pages only, and is tracked by the chunks its records reach.
  if (header.kind === 'incremental') return undefined;
  const end = header.version === VERSION_1 ? TrailerV1.size : Trailer.size + Index.fixedSize + Index.crcSize;
  const most = 8 * Math.max(0, fileSize - header.byteLength - end);
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
  constructor(
    private readonly bytes: Buffer,
    /** Offset of the next field: the end of the fixed part, at first. */
    public at: number,
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
