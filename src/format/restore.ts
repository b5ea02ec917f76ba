import { FileChangedError, OptionError, type FormatError } from '../errors';
import { geometryMismatch } from '../memory/geometry';
import type { MemoryBlock, PagedMemory } from '../memory/PagedMemory';
import { locationName, openLocation, type OpenSource, type SnapshotLocation, type SourceState } from './ByteSource';
import { chainProblem } from './chain';
import type { SnapshotFileHeader } from './decodeHeader';
import { PageTracker, unwrittenRuns } from './PageTracker';
import { readSnapshotSource, type SnapshotTrailer } from './reader';
import { verifySource } from './verify';

/** What `restore` took from one file of a chain. */
export interface RestoreLinkReport {
  readonly path: string;
  readonly header: SnapshotFileHeader;
  readonly trailer: SnapshotTrailer;
  /** Pages written from this link: those no newer link holds. */
  readonly pages: number;
  /** Of which zero pages. */
  readonly zeroPages: number;
}

/** What `restore` wrote. */
export interface RestoreReport {
  /** The newest link's header (the only file's, for one file): memory is as it was at its t0. */
  readonly header: SnapshotFileHeader;
  /** The newest link's trailer. */
  readonly trailer: SnapshotTrailer;
  /** Pages written into memory, zero pages included: every page of it. */
  readonly pages: number;
  /** Of which zero pages. */
  readonly zeroPages: number;
  /** Per file, in the order given (base first). */
  readonly links: readonly RestoreLinkReport[];
}

/** Bytes of the first read, for the header alone: enough for most headers, small next to any snapshot. */
const HEADER_READ_BYTES = 4096;

/** One file of the chain, open. */
interface OpenLink {
  readonly path: string;
  readonly source: OpenSource;
  readonly before: SourceState;
  header: SnapshotFileHeader;
}

/**
 * Writes a snapshot file, or a chain of them (base first: a full snapshot,
 * then its incremental children in order), into `memory`, which must have
 * the snapshot's page size and blocks (same names, sizes and order). Every
 * record is checked against its crc32 before it is written, every page of
 * the base must come exactly once, and each file's index and trailer must
 * match. Each page comes from the newest link that holds it: the links are
 * read newest first, and a page already written is skipped (one bit a page).
 *
 * It reads each open handle three times: the header alone, to check the
 * chain (docs/FORMAT.md, "Chains") and the geometry (a mismatch costs a few
 * KiB of reading); then the whole file, verified as `verify` does, before
 * the first byte is written; then the whole file again, into memory. So a
 * bad file or chain leaves memory untouched, and the file written is the
 * file checked: a file renamed over its path meanwhile is not read, and one
 * changed in place between the passes (its size or modification time
 * differ) is refused with a FileChangedError before anything is written. A
 * change during the last pass, if the records still check, is seen only at
 * its end (FileChangedError with `memoryWritten`).
 *
 * The bytes go straight into the blocks, past the write barrier, so the
 * memory must not be in a snapshot, and nothing else should write to it
 * meanwhile.
 *
 * A file is a path or a `SnapshotSource` (an object: `s3Source` in
 * `bgsnap/s3`, whose ETag stands for the modification time above).
 *
 * @throws SnapshotInProgressError when a snapshot holds `memory`, RestoreInProgressError when a
 *   restore or live restore does; while it runs, `restore` holds the memory in turn (a snapshot or live
 *   restore started meanwhile is refused with RestoreInProgressError).
 * @throws ChainError naming the first link that breaks the chain rules; nothing is written then.
 * @throws GeometryMismatchError when the geometry differs; nothing is written then.
 * @throws FormatError naming the byte and what was expected there; nothing is written then.
 * @throws FileChangedError when a file changed while it was read.
 */
export async function restore(files: SnapshotLocation | readonly SnapshotLocation[], memory: PagedMemory): Promise<RestoreReport> {
  const paths: readonly SnapshotLocation[] = Array.isArray(files) ? files : [files as SnapshotLocation];
  if (paths.length === 0) throw new OptionError('files', 'at least one snapshot file, base first', files);
  // Held from here to the end: no snapshot, share or live restore starts while the bytes change.
  const release = memory.holdForRestore();
  const links: OpenLink[] = [];
  try {
    // Step 1: every header, then the chain, then the geometry: a few KiB a file.
    for (const location of paths) {
      const path = locationName(location);
      const source = await openLocation(location);
      try {
        const before = source.opened;
        const head = await readSnapshotSource(source, path, { chunkBytes: HEADER_READ_BYTES });
        links.push({ path, source, before, header: head.header });
      } catch (error) {
        await source.close();
        throw error;
      }
    }
    const broken = chainProblem(links);
    if (broken !== undefined) throw broken;
    const targets = matchGeometry((links[0] as OpenLink).header, memory);
    // Step 2: every file checked whole; a bad one names its first problem and changes nothing.
    for (const link of links) {
      const report = await verifySource(link.source, link.path);
      if (!report.ok) throw report.problems[0] as FormatError;
    }
    // Step 3: the files checked are the files about to be written.
    for (const link of links) await checkUnchanged(link, false);
    // Step 4: newest link first, each page not yet written into its block (checked again as it is read).
    // The bytes go past the write barrier: memory forgets its last snapshot first, so that the next
    // incremental one is a full one, even if this restore fails half-way.
    memory.forgetSnapshots();
    const written = new PageTracker((links[0] as OpenLink).header.blocks);
    const reports: RestoreLinkReport[] = [];
    for (let i = links.length - 1; i >= 0; i--) reports[i] = await writeLink(links[i] as OpenLink, memory, targets, written);
    // Step 5: every page must have come (the base holds each), from the same files.
    const newest = reports[reports.length - 1] as RestoreLinkReport;
    const missing = written.missing(newest.trailer.offset);
    if (missing !== undefined) throw missing;
    for (const link of links) await checkUnchanged(link, true);
    const zeroPages = reports.reduce((n, r) => n + r.zeroPages, 0);
    return { header: newest.header, trailer: newest.trailer, pages: written.pages, zeroPages, links: reports };
  } finally {
    release();
    await Promise.all(links.map((l) => l.source.close()));
  }
}

/** Writes the pages of one link that `written` has not seen, and marks them. */
async function writeLink(link: OpenLink, memory: PagedMemory, targets: readonly MemoryBlock[], written: PageTracker): Promise<RestoreLinkReport> {
  const file = await readSnapshotSource(link.source, link.path);
  const own = new PageTracker(file.header.blocks, file.header.kind);
  const { pageSize, blocks } = file.header;
  let pages = 0;
  let zeroPages = 0;
  for await (const record of file.records()) {
    const repeat = own.mark(record);
    if (repeat !== undefined) throw repeat;
    const bytes = (targets[record.block] as MemoryBlock).bytes;
    const first = (blocks[record.block] as { firstPage: number }).firstPage;
    for (const span of record.spans()) {
      // Runs of pages within the span that no newer link wrote.
      for (const [i, j] of unwrittenRuns(written, first + span.page, span.count)) {
        const at = (span.page + i) * pageSize;
        if (span.data === null) {
          bytes.fill(0, at, at + (j - i) * pageSize);
          zeroPages += j - i;
        } else bytes.set(span.data.subarray(i * pageSize, j * pageSize), at);
        pages += j - i;
      }
    }
    written.mark(record);
  }
  // The trailer was checked by the iteration; a full link must hold every page.
  const trailer = file.trailer as SnapshotTrailer;
  const missing = own.missing(trailer.offset);
  if (missing !== undefined) throw missing;
  return { path: link.path, header: file.header, trailer, pages, zeroPages };
}

/** Throws a FileChangedError when the file's size or modification time (an object's ETag) differ from when it was opened. */
async function checkUnchanged({ source, path, before }: OpenLink, memoryWritten: boolean): Promise<void> {
  const now = await source.state();
  if (now.tag === before.tag) return;
  throw new FileChangedError(path, before, now, memoryWritten);
}

/** The memory's blocks in the snapshot's order, or a GeometryMismatchError naming the first difference. */
function matchGeometry(header: SnapshotFileHeader, memory: PagedMemory): MemoryBlock[] {
  const mismatch = geometryMismatch(header, memory);
  if (mismatch !== undefined) throw mismatch;
  return header.blocks.map((b) => memory.block(b.name));
}
