import { crc32 } from 'node:zlib';
import type { BlockInfo } from '../memory/contract';
import { INDEX_TAG, Index, indexBytes, readU64, writeU64 } from './layout';

/**
 * The page index of a snapshot (docs/FORMAT.md, "Page index"): per record,
 * in stream order, its file offset, block, first page and page count. Kept in
 * growable typed arrays, not an object per record.
 */
export class PageIndex {
  private offsets = new Float64Array(64);
  private firstPages = new Float64Array(64);
  private blocks = new Uint32Array(64);
  private counts = new Uint32Array(64);
  private size = 0;
  /** Entry numbers sorted by global first page, built by the first `find`. */
  private sorted: Uint32Array | undefined;

  /** Number of entries. */
  get length(): number {
    return this.size;
  }

  /** Appends an entry. */
  push(offset: number, block: number, firstPage: number, count: number): void {
    if (this.size === this.offsets.length) {
      const grow = <T extends Float64Array | Uint32Array>(from: T, to: T): T => (to.set(from), to);
      const n = this.size * 2;
      this.offsets = grow(this.offsets, new Float64Array(n));
      this.firstPages = grow(this.firstPages, new Float64Array(n));
      this.blocks = grow(this.blocks, new Uint32Array(n));
      this.counts = grow(this.counts, new Uint32Array(n));
    }
    const i = this.size++;
    this.offsets[i] = offset;
    this.firstPages[i] = firstPage;
    this.blocks[i] = block;
    this.counts[i] = count;
    this.sorted = undefined;
  }

  /** Entry `i`'s record offset. */
  offset(i: number): number {
    return this.offsets[this.check(i)] as number;
  }

  /** Entry `i`'s first page, within its block. */
  firstPage(i: number): number {
    return this.firstPages[this.check(i)] as number;
  }

  /** Entry `i`'s block index. */
  block(i: number): number {
    return this.blocks[this.check(i)] as number;
  }

  /** Entry `i`'s page count. */
  count(i: number): number {
    return this.counts[this.check(i)] as number;
  }

  /**
   * The entry whose record holds global page `page` of a snapshot with
   * `blocks`, or -1 when no record holds it (an incremental snapshot's
   * unchanged pages).
   */
  find(blocks: readonly BlockInfo[], page: number): number {
    // Step 1: the entries by global first page, once.
    if (this.sorted === undefined) {
      const start = (i: number) => (blocks[this.blocks[i] as number] as BlockInfo).firstPage + (this.firstPages[i] as number);
      const order = Array.from({ length: this.size }, (_, i) => i).sort((a, b) => start(a) - start(b));
      this.sorted = Uint32Array.from(order);
    }
    // Step 2: the last entry starting at or before the page; it holds the page if its run reaches it.
    const sorted = this.sorted;
    let lo = 0;
    let hi = sorted.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const i = sorted[mid] as number;
      const first = (blocks[this.blocks[i] as number] as BlockInfo).firstPage + (this.firstPages[i] as number);
      if (first <= page) {
        found = i;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return -1;
    const first = (blocks[this.blocks[found] as number] as BlockInfo).firstPage + (this.firstPages[found] as number);
    return page < first + (this.counts[found] as number) ? found : -1;
  }

  /** The index section: tag, entries, and a crc seeded with the header's. */
  encode(headerCrc: number): Buffer {
    const out = Buffer.alloc(indexBytes(this.size));
    out.writeUInt32LE(INDEX_TAG, Index.tag);
    writeU64(out, Index.entries, this.size);
    for (let i = 0, at = Index.fixedSize; i < this.size; i++, at += Index.entrySize) {
      writeU64(out, at + Index.entryOffset, this.offsets[i] as number);
      writeU64(out, at + Index.entryFirstPage, this.firstPages[i] as number);
      out.writeUInt32LE(this.blocks[i] as number, at + Index.entryBlock);
      out.writeUInt32LE(this.counts[i] as number, at + Index.entryCount);
    }
    const crcAt = out.length - Index.crcSize;
    out.writeUInt32LE(crc32(out.subarray(0, crcAt), headerCrc), crcAt);
    return out;
  }

  /**
   * The entries of an index section whose crc has been checked. Returns the
   * entry number whose u64 field is above 2^53 - 1 as a negative number
   * `-(i + 1)`, and the index otherwise.
   */
  static decode(bytes: Buffer, entries: number): PageIndex | number {
    const index = new PageIndex();
    for (let i = 0, at = Index.fixedSize; i < entries; i++, at += Index.entrySize) {
      const offset = readU64(bytes, at + Index.entryOffset);
      const firstPage = readU64(bytes, at + Index.entryFirstPage);
      if (offset === undefined || firstPage === undefined) return -(i + 1);
      index.push(offset, bytes.readUInt32LE(at + Index.entryBlock), firstPage, bytes.readUInt32LE(at + Index.entryCount));
    }
    return index;
  }

  private check(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new RangeError(`Index entry ${i} is outside the ${this.size} entries`);
    return i;
  }
}
