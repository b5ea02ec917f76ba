import { ForeignBufferError, OptionError } from '../errors';

/**
 * A bounded pool of page buffers, allocated once as one ArrayBuffer and
 * lent out page by page. Nothing is allocated after construction.
 */
export class PagePool {
  /** Buffers in the pool, lent or not. */
  readonly size: number;
  readonly pageSize: number;

  private readonly storage: ArrayBuffer;
  private readonly slots: Uint8Array[];
  /** Indices of free slots; a stack, so the most recently used buffer is reused first. */
  private readonly free: number[];
  private readonly lent: Uint8Array;
  private peakBorrowed = 0;

  constructor(size: number, pageSize: number) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new OptionError('poolPages', 'an integer from 0 up', size);
    }
    this.size = size;
    this.pageSize = pageSize;
    this.storage = new ArrayBuffer(size * pageSize);
    this.slots = Array.from({ length: size }, (_, i) => new Uint8Array(this.storage, i * pageSize, pageSize));
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
    this.lent = new Uint8Array(size);
  }

  /** Buffers free to lend. */
  get available(): number {
    return this.free.length;
  }

  /** Buffers on loan. */
  get borrowed(): number {
    return this.size - this.free.length;
  }

  /** The most buffers on loan at once since construction. */
  get peak(): number {
    return this.peakBorrowed;
  }

  /** Lends a buffer, or returns `undefined` when none is free. */
  acquire(): Uint8Array | undefined {
    const slot = this.free.pop();
    if (slot === undefined) return undefined;
    this.lent[slot] = 1;
    const borrowed = this.size - this.free.length;
    if (borrowed > this.peakBorrowed) this.peakBorrowed = borrowed;
    return this.slots[slot];
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
    this.free.push(slot);
  }
}
