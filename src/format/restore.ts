import { GeometryMismatchError, SnapshotInProgressError, type FormatError } from '../errors';
import { verify } from './verify';
import type { MemoryBlock, PagedMemory } from '../memory/PagedMemory';
import type { SnapshotFileHeader } from './decodeHeader';
import { PageTracker } from './PageTracker';
import { openSnapshot, type SnapshotFile, type SnapshotTrailer } from './reader';

/** What `restore` wrote. */
export interface RestoreReport {
  readonly header: SnapshotFileHeader;
  readonly trailer: SnapshotTrailer;
  /** Pages written into memory, zero pages included: every page of it. */
  readonly pages: number;
  readonly zeroPages: number;
}

/**
 * Writes a snapshot file into `memory`, which must have the snapshot's page
 * size and blocks (same names, sizes and order). Every record is checked
 * against its crc32 before it is written, every page must come exactly once,
 * and the trailer must match.
 *
 * The file is verified whole before the first byte is written (it is read
 * twice), so a bad file leaves memory untouched. The bytes go straight into
 * the blocks, past the write barrier, so the memory must not be in a snapshot,
 * and nothing else should write to it meanwhile.
 *
 * @throws SnapshotInProgressError when a snapshot holds `memory` (checked before every record).
 * @throws GeometryMismatchError when the geometry differs; nothing is written then.
 * @throws FormatError naming the byte and what was expected there.
 */
export async function restore(path: string, memory: PagedMemory): Promise<RestoreReport> {
  if (memory.snapshotting) throw new SnapshotInProgressError();
  // Step 1: the whole file is checked first; a bad one names its first problem and changes nothing.
  const report = await verify(path);
  if (!report.ok) throw report.problems[0] as FormatError;
  const file = await openSnapshot(path);
  try {
    // Step 2: the geometry, before any byte is written.
    const targets = matchGeometry(file.header, memory);
    // Step 3: every record into its block, each page once (checked again as it is read).
    const tracker = new PageTracker(file.header.blocks);
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
    // Step 4: the trailer was checked by the iteration; every page must have come.
    const trailer = (file as SnapshotFile).trailer as SnapshotTrailer;
    const missing = tracker.missing(trailer.offset);
    if (missing !== undefined) throw missing;
    return { header: file.header, trailer, pages: tracker.pages, zeroPages: trailer.zeroPages };
  } finally {
    await file.close();
  }
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
