/**
 * Where each page of a restore comes from: the records in background order
 * (their global first page and page count), and for each page the record it
 * is loaded from, the newest that holds it when records of several links of
 * a chain hold it. Typed arrays, not an object per record or page.
 */
export class RecordTable {
  private firsts = new Float64Array(64);
  private counts = new Uint32Array(64);
  private bytes = new Float64Array(64);
  private size = 0;
  private owner: Int32Array | undefined;

  constructor(
    /** Pages of the memory. */
    readonly pageCount: number,
  ) {}

  /** Records added. */
  get length(): number {
    return this.size;
  }

  /**
   * Adds a record of `count` pages from global page `first`, `byteLength`
   * bytes in its file; a later record holding a page takes it from an earlier
   * one (add a chain's links base first). Returns its number.
   */
  add(first: number, count: number, byteLength: number): number {
    if (this.size === this.firsts.length) {
      const n = this.size * 2;
      this.firsts = grow(this.firsts, new Float64Array(n));
      this.counts = grow(this.counts, new Uint32Array(n));
      this.bytes = grow(this.bytes, new Float64Array(n));
    }
    const r = this.size++;
    this.firsts[r] = first;
    this.counts[r] = count;
    this.bytes[r] = byteLength;
    (this.owner ??= new Int32Array(this.pageCount).fill(-1)).fill(r, first, first + count);
    return r;
  }

  /** Global first page of record `r`. */
  first(r: number): number {
    return this.firsts[r] as number;
  }

  /** Pages of record `r`. */
  count(r: number): number {
    return this.counts[r] as number;
  }

  /** Bytes of record `r` in its file. */
  byteLength(r: number): number {
    return this.bytes[r] as number;
  }

  /** The record page `page` is loaded from, or -1 when none holds it. */
  recordOf(page: number): number {
    return this.owner === undefined ? -1 : (this.owner[page] as number);
  }

  /** Whether a record numbered `from` or later holds a page of the `count` from global page `first`. */
  holdsFrom(first: number, count: number, from: number): boolean {
    const owner = this.owner;
    if (owner === undefined) return false;
    for (let p = first, end = first + count; p < end; p++) if ((owner[p] as number) >= from) return true;
    return false;
  }

  /** The first page no record holds, or -1. */
  firstMissing(): number {
    return this.owner === undefined ? (this.pageCount === 0 ? -1 : 0) : this.owner.indexOf(-1);
  }
}

function grow<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
