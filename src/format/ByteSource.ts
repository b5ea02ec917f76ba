import type { FileHandle } from 'node:fs/promises';

/**
 * Where a snapshot's bytes are read from: a file, or anything that can read
 * a range at a position (an object store's ranged GETs). The shape of
 * `FileHandle.read`, reduced to what a reader needs.
 */
export interface ByteSource {
  /** Bytes in the source. */
  readonly size: number;
  /**
   * Reads up to `length` bytes at `position` into `into` from `offset`, and
   * resolves to how many were read: fewer only at the end of the source.
   */
  read(into: Uint8Array, offset: number, length: number, position: number): Promise<number>;
}

/** A file handle as a `ByteSource` of `size` bytes (its size from `stat`). */
export function fileSource(handle: FileHandle, size: number): ByteSource {
  return {
    size,
    read: async (into, offset, length, position) => (await handle.read(into, offset, length, position)).bytesRead,
  };
}
