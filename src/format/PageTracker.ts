import { FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import type { SnapshotKind } from '../storage/Sink';
import type { SnapshotRecord } from './record';

/** The bytes of a bitmap: all of them, or only the chunks that have a bit set. */
interface BitmapBytes {
  get(at: number): number;
  set(at: number, byte: number): void;
}

/** Bytes of one chunk of a sparse bitmap: 4096 pages. */
const CHUNK_BYTES = 512;

/** A bitmap that allocates only the chunks that records reach, for incremental snapshots. */
class SparseBytes implements BitmapBytes {
  private readonly chunks = new Map<number, Uint8Array>();

  get(at: number): number {
    return this.chunks.get(Math.floor(at / CHUNK_BYTES))?.[at % CHUNK_BYTES] ?? 0;
  }

  set(at: number, byte: number): void {
    const key = Math.floor(at / CHUNK_BYTES);
    let chunk = this.chunks.get(key);
    if (chunk === undefined) this.chunks.set(key, (chunk = new Uint8Array(CHUNK_BYTES)));
    chunk[at % CHUNK_BYTES] = byte;
  }
}

/** A bitmap with every byte allocated. */
class DenseBytes implements BitmapBytes {
  constructor(readonly bytes: Uint8Array) {}

  get(at: number): number {
    return this.bytes[at] as number;
  }

  set(at: number, byte: number): void {
    this.bytes[at] = byte;
  }
}

/**
 * Checks that records hold every page of a full snapshot exactly once (an
 * incremental one: each of its pages at most once), in a bitmap
 * of all pages (docs/FORMAT.md, "Reading"): one bit per page, bit `p mod 8`
 * of byte `⌊p / 8⌋` for global page `p`. For a full snapshot, allocates
 * ⌈pages / 8⌉ bytes: check the page count against the file first
 * (`pageCountProblem`). For an incremental one, allocates 512 bytes for each
 * 4096 pages that its records reach, so that what it allocates is bounded by
 * the file, not by the header.
 */
export class PageTracker {
  private readonly seen: BitmapBytes;
  /** The bitmap's bytes when it is dense (a full snapshot's): the fast path. */
  private readonly dense: Uint8Array | undefined;
  /** Pages in the snapshot. */
  private readonly total: number;
  /** Distinct pages seen. */
  pages = 0;

  constructor(
    private readonly blocks: readonly BlockInfo[],
    /** A full snapshot must hold every page; an incremental one holds some. */
    private readonly kind: SnapshotKind = 'full',
  ) {
    const last = blocks[blocks.length - 1];
    this.total = last === undefined ? 0 : last.firstPage + last.pages;
    this.seen = kind === 'full' ? new DenseBytes(new Uint8Array(Math.ceil(this.total / 8))) : new SparseBytes();
    this.dense = this.seen instanceof DenseBytes ? this.seen.bytes : undefined;
  }

  /** Marks the record's pages; a problem naming the record for the first page it repeats. */
  mark(record: Pick<SnapshotRecord, 'offset' | 'block' | 'page' | 'count'>): FormatError | undefined {
    const block = this.blocks[record.block] as BlockInfo;
    const first = block.firstPage + record.page;
    const dense = this.dense;
    const seen = this.seen;
    let repeated = -1;
    for (let p = first; p < first + record.count; p++) {
      // Page numbers can pass 2^32: no 32-bit shifts on them.
      const at = Math.floor(p / 8);
      const bit = 1 << (p % 8);
      // The dense bitmap is read and written in place: one call site for both kinds would
      // keep every tracker (a chain's base's too) off V8's fast path for typed arrays.
      const byte = dense !== undefined ? (dense[at] as number) : seen.get(at);
      if ((byte & bit) !== 0) {
        if (repeated < 0) repeated = p - block.firstPage;
        continue;
      }
      if (dense !== undefined) dense[at] = byte | bit;
      else seen.set(at, byte | bit);
      this.pages++;
    }
    if (repeated < 0) return undefined;
    return new FormatError(
      record.offset,
      `page ${repeated} of block ${JSON.stringify(block.name)} once`,
      'it again in this record; an earlier record holds it',
    );
  }

  /** Whether global page `p` has been marked. */
  has(p: number): boolean {
    const at = Math.floor(p / 8);
    const byte = this.dense !== undefined ? (this.dense[at] as number) : this.seen.get(at);
    return ((byte >> (p % 8)) & 1) === 1;
  }

  /**
   * A problem at `offset` naming the first page no record held, or
   * `undefined` when none is missing (or the snapshot is incremental).
   */
  missing(offset: number): FormatError | undefined {
    const missing = this.total - this.pages;
    if (missing === 0 || this.kind === 'incremental') return undefined;
    // The first byte with a clear bit; padding bits past the last page are clear too, but come after every page.
    const bytes = (this.seen as DenseBytes).bytes;
    const at = bytes.findIndex((byte) => byte !== 0xff);
    const byte = bytes[at] as number;
    let bit = 0;
    while ((byte >> bit) & 1) bit++;
    const p = at * 8 + bit;
    const block = this.blocks.find((b) => p >= b.firstPage && p < b.firstPage + b.pages) as BlockInfo;
    return new FormatError(
      offset,
      `every page in a record, page ${p - block.firstPage} of block ${JSON.stringify(block.name)} too`,
      `no record holding it (${missing} of ${this.total} pages missing)`,
    );
  }
}

/**
 * The runs `[i, j)` of the `count` pages from global page `first` that
 * `written` has not marked: a chain's older link writes only the pages no
 * newer link held.
 */
export function* unwrittenRuns(written: PageTracker, first: number, count: number): Generator<readonly [number, number]> {
  for (let i = 0; i < count; ) {
    if (written.has(first + i)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < count && !written.has(first + j)) j++;
    yield [i, j];
    i = j;
  }
}
