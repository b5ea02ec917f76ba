/**
 * Synchronous access to the blocks of a memory, the only way the SQLite VFS
 * touches them. Any object of this shape will do: in a worker thread, the
 * writer that `attachMemory(handle)` returns; in tests, a plain view of the
 * blocks.
 */
export interface SyncWriter {
  /**
   * Writes `data` at `offset` of block `block`, through the write barrier:
   * it may block the calling thread while a snapshot holds a page it
   * touches. The bytes are in memory when it returns; `data` may be reused.
   */
  write(block: string, offset: number, data: Uint8Array): void;
  /** A copy of `length` bytes at `offset` of block `block`. Never blocks. */
  read(block: string, offset: number, length: number): Uint8Array;
}
