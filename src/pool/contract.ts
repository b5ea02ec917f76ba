/**
 * The page-buffer pool contract: what a strategy borrows page buffers from.
 * `PagePool` implements it in one thread; `SharedPagePool` over shared
 * memory, where writer threads can claim slots for their own copies too.
 */
export interface PageBufferPool {
  /** Buffers in the pool, lent or not. */
  readonly size: number;
  readonly pageSize: number;
  /** Buffers free to lend. */
  readonly available: number;
  /** Buffers on loan. */
  readonly borrowed: number;
  /** The most buffers on loan at once since construction. */
  readonly peak: number;
  /** Lends a buffer, or returns `undefined` when none is free. */
  acquire(): Uint8Array | undefined;
  /**
   * Takes a buffer back.
   * @throws ForeignBufferError for a buffer this pool did not lend, or one already returned.
   */
  release(buffer: Uint8Array): void;
}
