import { ForeignBufferError, OptionError } from '../errors';

/**
 * A bounded pool of page buffers, allocated once as one ArrayBuffer and
 * lent out page by page. Nothing is allocated after construction but the
 * small view of a slot, the first time that slot is lent.
 */
export class PagePool {
  /** Buffers in the pool, lent or not. */
  readonly size: number;
  readonly pageSize: number;

  private readonly storage: ArrayBuffer;
  /** Views of the slots, made on first loan, so a large pool costs no per-slot objects up front. */
  private readonly slots: (Uint8Array | undefined)[];
  /** Indices of free slots, `free[0..freeCount)`; a stack, so the most recently used buffer is reused first. */
  private readonly free: Uint32Array;
  private freeCount: number;
  private readonly lent: Uint8Array;
  private peakBorrowed = 0;

  /**
   * @throws OptionError naming `poolPages` for a size that is not an integer
   *   from 0 up, or a pool this process cannot allocate (the message gives
   *   the bytes asked for).
   */
  constructor(size: number, pageSize: number) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new OptionError('poolPages', 'an integer from 0 up', size);
    }
    const bytes = size * pageSize;
    try {
      this.storage = new ArrayBuffer(bytes);
      this.free = new Uint32Array(size);
      this.lent = new Uint8Array(size);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new OptionError(
        'poolPages',
        `a pool this process can allocate: ${size} pages of ${pageSize} bytes asked for ${bytes} bytes (${error.message})`,
        size,
      );
    }
    this.size = size;
    this.pageSize = pageSize;
    this.slots = new Array<Uint8Array | undefined>(size);
    for (let i = 0; i < size; i++) this.free[i] = size - 1 - i;
    this.freeCount = size;
  }

  /** Buffers free to lend. */
  get available(): number {
    return this.freeCount;
  }

  /** Buffers on loan. */
  get borrowed(): number {
    return this.size - this.freeCount;
  }

  /** The most buffers on loan at once since construction. */
  get peak(): number {
    return this.peakBorrowed;
  }

  /** Lends a buffer, or returns `undefined` when none is free. */
  acquire(): Uint8Array | undefined {
    if (this.freeCount === 0) return undefined;
    const slot = this.free[--this.freeCount] as number;
    this.lent[slot] = 1;
    const borrowed = this.size - this.freeCount;
    if (borrowed > this.peakBorrowed) this.peakBorrowed = borrowed;
    return (this.slots[slot] ??= new Uint8Array(this.storage, slot * this.pageSize, this.pageSize));
  }

  /**
   * Takes a buffer back.
   * @throws ForeignBufferError for a buffer this pool did not lend, or one already returned.
   */
  release(buffer: Uint8Array): void {
    const slot = buffer.byteOffset / this.pageSize;
    if (buffer.buffer !== this.storage || !Number.isInteger(slot) || buffer.length !== this.pageSize) {
      throw new ForeignBufferError('it was not allocated by this pool');
    }
    if (this.lent[slot] !== 1) throw new ForeignBufferError(`slot ${slot} is not on loan`);
    this.lent[slot] = 0;
    this.free[this.freeCount++] = slot;
  }
}
