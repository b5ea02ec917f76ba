import { open, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { FileChangedError, GeometryMismatchError, SnapshotInProgressError, type FormatError } from '../errors';
import type { MemoryBlock, PagedMemory } from '../memory/PagedMemory';
import type { SnapshotFileHeader } from './decodeHeader';
import { PageTracker } from './PageTracker';
import { readSnapshot, type SnapshotTrailer } from './reader';
import { verifyHandle } from './verify';

/** What `restore` wrote. */
export interface RestoreReport {
  readonly header: SnapshotFileHeader;
  readonly trailer: SnapshotTrailer;
  /** Pages written into memory, zero pages included: every page of it. */
  readonly pages: number;
  readonly zeroPages: number;
}

/** Bytes of the first read, for the header alone: enough for most headers, small next to any snapshot. */
const HEADER_READ_BYTES = 4096;

/**
 * Writes a snapshot file into `memory`, which must have the snapshot's page
 * size and blocks (same names, sizes and order). Every record is checked
 * against its crc32 before it is written, every page must come exactly once,
 * and the trailer must match.
 *
 * It reads one open handle three times: the header alone, to check the
 * geometry (a mismatch costs a few KiB of reading); then the whole file,
 * verified as `verify` does, before the first byte is written; then the
 * whole file again, into memory. So a bad file leaves memory untouched, and
 * the file written is the file checked: a file renamed over `path` meanwhile
 * is not read, and one changed in place between the passes (its size or
 * modification time differ) is refused with a FileChangedError before
 * anything is written. A change during the last pass, if the records still
 * check, is seen only at its end (FileChangedError with `memoryWritten`).
 *
 * The bytes go straight into the blocks, past the write barrier, so the
 * memory must not be in a snapshot, and nothing else should write to it
 * meanwhile.
 *
 * @throws SnapshotInProgressError when a snapshot holds `memory` (checked before every record).
 * @throws GeometryMismatchError when the geometry differs; nothing is written then.
 * @throws FormatError naming the byte and what was expected there; nothing is written then.
 * @throws FileChangedError when the file changed while it was read.
 */
export async function restore(path: string, memory: PagedMemory): Promise<RestoreReport> {
  if (memory.snapshotting) throw new SnapshotInProgressError();
  const handle = await open(path, 'r');
  try {
    const before = await handle.stat({ bigint: true });
    const size = Number(before.size);
    // Step 1: the geometry, from the header alone.
    const head = await readSnapshot(handle, path, size, { chunkBytes: HEADER_READ_BYTES });
    const targets = matchGeometry(head.header, memory);
    // Step 2: the whole file is checked; a bad one names its first problem and changes nothing.
    const report = await verifyHandle(handle, path, size);
    if (!report.ok) throw report.problems[0] as FormatError;
    // Step 3: the file checked is the file about to be written.
    await checkUnchanged(handle, path, before, false);
    // Step 4: every record into its block, each page once (checked again as it is read).
    const file = await readSnapshot(handle, path, size);
    const tracker = new PageTracker(file.header.blocks, file.header.kind);
    const pageSize = file.header.pageSize;
    for await (const record of file.records()) {
      if (memory.snapshotting) throw new SnapshotInProgressError();
      const repeat = tracker.mark(record);
      if (repeat !== undefined) throw repeat;
      const bytes = (targets[record.block] as MemoryBlock).bytes;
      for (const span of record.spans()) {
        const at = span.page * pageSize;
        if (span.data === null) bytes.fill(0, at, at + span.count * pageSize);
        else bytes.set(span.data, at);
      }
    }
    // Step 5: the trailer was checked by the iteration; every page must have come, from the same file.
    const trailer = file.trailer as SnapshotTrailer;
    const missing = tracker.missing(trailer.offset);
    if (missing !== undefined) throw missing;
    await checkUnchanged(handle, path, before, true);
    return { header: file.header, trailer, pages: tracker.pages, zeroPages: trailer.zeroPages };
  } finally {
    await handle.close();
  }
}

/** Throws a FileChangedError when the file's size or modification time differ from `before`. */
async function checkUnchanged(handle: FileHandle, path: string, before: BigIntStats, memoryWritten: boolean): Promise<void> {
  const now = await handle.stat({ bigint: true });
  if (now.size === before.size && now.mtimeNs === before.mtimeNs) return;
  const seen = (s: BigIntStats) => ({ size: Number(s.size), mtimeMs: Number(s.mtimeNs / 1000n) / 1000 });
  throw new FileChangedError(path, seen(before), seen(now), memoryWritten);
}

/** The memory's blocks in the snapshot's order, or a GeometryMismatchError naming the first difference. */
function matchGeometry(header: SnapshotFileHeader, memory: PagedMemory): MemoryBlock[] {
  if (header.pageSize !== memory.pageSize) throw new GeometryMismatchError('pageSize', header.pageSize, memory.pageSize);
  if (header.blocks.length !== memory.blocks.length) {
    throw new GeometryMismatchError('blocks.length', header.blocks.length, memory.blocks.length);
  }
  return header.blocks.map((b, i) => {
    const m = memory.blocks[i] as MemoryBlock;
    if (b.name !== m.name) throw new GeometryMismatchError(`blocks[${i}].name`, b.name, m.name);
    if (b.size !== m.size) throw new GeometryMismatchError(`blocks[${i}].size`, b.size, m.size);
    return memory.block(b.name);
  });
}
