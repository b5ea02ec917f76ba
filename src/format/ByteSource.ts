import { open, type FileHandle } from 'node:fs/promises';

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

/** What a source holds now, to tell whether its bytes changed between two reads. */
export interface SourceState {
  readonly size: number;
  /** Modification time, ms since the epoch. */
  readonly mtimeMs: number;
  /** Changes whenever the bytes do: a file's size and modification time in ns, an object's ETag. */
  readonly tag: string;
}

/** A source opened for reading, until `close`. */
export interface OpenSource extends ByteSource {
  /** What it held when it was opened. */
  readonly opened: SourceState;
  /** What it holds now (a `stat`, a `HeadObject`). */
  state(): Promise<SourceState>;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * A snapshot that is not a local file: something that opens a `ByteSource`
 * (an object in a store: `s3Source` in `bgsnap/s3`). `openSnapshot`,
 * `verify` and `restore` take one wherever they take a path.
 */
export interface SnapshotSource {
  /** What reports and errors call it (`s3://bucket/key`). */
  readonly name: string;
  open(): Promise<OpenSource>;
}

/** A snapshot's path, or a source that opens it. */
export type SnapshotLocation = string | SnapshotSource;

/** The name of a location: the path, or the source's `name`. */
export function locationName(location: SnapshotLocation): string {
  return typeof location === 'string' ? location : location.name;
}

/** Opens a location: a file by its path (its size from `stat`), or the source. */
export async function openLocation(location: SnapshotLocation): Promise<OpenSource> {
  if (typeof location !== 'string') return location.open();
  const handle = await open(location, 'r');
  try {
    const state = async (): Promise<SourceState> => {
      const s = await handle.stat({ bigint: true });
      return { size: Number(s.size), mtimeMs: Number(s.mtimeNs / 1000n) / 1000, tag: `${s.size}:${s.mtimeNs}` };
    };
    const opened = await state();
    let closing: Promise<void> | undefined;
    return { ...fileSource(handle, opened.size), opened, state, close: () => (closing ??= handle.close()) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
