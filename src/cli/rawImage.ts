import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FormatError } from '../errors';
import { locationName, openLocation, type OpenSource, type SnapshotLocation, type SourceState } from '../format/ByteSource';
import type { SnapshotFileHeader } from '../format/decodeHeader';
import { PageTracker } from '../format/PageTracker';
import { readSnapshotSource, type SnapshotTrailer } from '../format/reader';
import { verifySource } from '../format/verify';
import type { BlockInfo } from '../memory/contract';
import { linkIntoPlace, pathExists, syncDirectory, writeFully } from '../storage/commitFile';
import { CancelledError, InvalidSnapshotError, OutputExistsError, SourceChangedError } from './errors';

/** Where a block lies in a raw image. */
export interface RawBlock {
  readonly name: string;
  /** Byte offset of the block in the image. */
  readonly offset: number;
  readonly size: number;
}

/** What `writeRawImage` wrote. */
export interface RawImageReport {
  readonly header: SnapshotFileHeader;
  readonly trailer: SnapshotTrailer;
  /** Bytes of the image: the sum of the block sizes. */
  readonly bytes: number;
  /** The blocks, one after another in block order. */
  readonly blocks: readonly RawBlock[];
  readonly pages: number;
  /** Pages left as holes (zero pages), never written. */
  readonly zeroPages: number;
}

export interface RawImageOptions {
  /** Replace a file at the output path. @default false */
  readonly overwrite?: boolean;
  /** Stops the restore before the output gets its name; `reason` is the signal that stopped it. */
  readonly signal?: AbortSignal;
}

/**
 * Writes the image of the snapshot file at `path` to `into` as raw bytes: its
 * blocks one after another in block order, each page at
 * `(block's first page + page) × pageSize`, the memory as it was at t0.
 *
 * The file is verified in full first (as `verify` does), through the one
 * handle that is then read again for the bytes, so a bad file writes
 * nothing. The image is written under a temporary name in the same folder
 * (zero pages as holes), synced, and given its name only when complete: a
 * hard link, which refuses atomically if the name was taken meanwhile, or a
 * rename with `overwrite`. On any failure or cancel the temporary file is
 * removed, and nothing is left under `into`.
 *
 * @throws OutputExistsError when `into` exists without `overwrite`.
 * @throws InvalidSnapshotError when the file is not a complete, intact snapshot.
 * @throws SourceChangedError when the file changed between its check and its reading.
 * @throws CancelledError when `signal` aborted first.
 */
export async function writeRawImage(location: SnapshotLocation, into: string, options: RawImageOptions = {}): Promise<RawImageReport> {
  const path = locationName(location);
  const overwrite = options.overwrite ?? false;
  const signal = options.signal;
  const nothingWritten = `nothing was written to ${JSON.stringify(into)}`;
  const checkCancel = (): void => {
    if (signal?.aborted) throw new CancelledError(signal.reason as NodeJS.Signals, nothingWritten);
  };
  // Refused early when it exists; the link at the end refuses again, atomically.
  if (!overwrite && (await pathExists(into))) throw new OutputExistsError(into);

  const source = await openLocation(location);
  const temp = join(dirname(into), `.${basename(into)}.${randomBytes(6).toString('hex')}.tmp`);
  let out: FileHandle | undefined;
  /** The temporary file: created by this call, then given its name. */
  let created = false;
  let named = false;
  try {
    // Step 1: the whole file is checked before anything is created.
    const before = source.opened;
    const report = await verifySource(source, path);
    if (!report.ok) throw new InvalidSnapshotError(path, report.problems, nothingWritten);
    checkCancel();

    // Step 2: the image, under a temporary name, at its full size: pages never written stay zero.
    const { header } = report;
    const pageSize = header.pageSize;
    const bytes = header.blocks.reduce((n, b) => n + b.size, 0);
    out = await open(temp, 'wx');
    created = true;
    await out.truncate(bytes);

    // Step 3: every stored page to its place, each page once (checked again as it is read).
    const file = await readSnapshotSource(source, path);
    const tracker = new PageTracker(file.header.blocks);
    let problem: FormatError | undefined;
    try {
      for await (const record of file.records()) {
        checkCancel();
        problem = tracker.mark(record);
        if (problem !== undefined) break;
        const first = (file.header.blocks[record.block] as BlockInfo).firstPage;
        for (const span of record.spans()) {
          if (span.data !== null) await writeFully(out, span.data, (first + span.page) * pageSize);
        }
      }
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      problem = error;
    }
    if (problem === undefined && file.trailer !== undefined) problem = tracker.missing(file.trailer.offset);
    // Step 4: the file read is the file checked; a problem it did not have then means it changed.
    await checkUnchanged(source, path, before, nothingWritten);
    if (problem !== undefined) throw new InvalidSnapshotError(path, [problem], nothingWritten);
    const trailer = file.trailer as SnapshotTrailer;

    // Step 5: on disk, then under its name: the commit point.
    await out.sync();
    await out.close();
    out = undefined;
    checkCancel();
    if (overwrite) await rename(temp, into);
    else await linkIntoPlace(temp, into, (path) => new OutputExistsError(path));
    named = true;
    await syncDirectory(dirname(into));
    return {
      header,
      trailer,
      bytes,
      blocks: header.blocks.map((b) => ({ name: b.name, offset: b.firstPage * pageSize, size: b.size })),
      pages: tracker.pages,
      zeroPages: trailer.zeroPages,
    };
  } catch (error) {
    // The error that stopped the restore is the one reported; the clean-up's own can only follow it.
    await out?.close().catch(() => undefined);
    out = undefined;
    if (created && !named) await unlink(temp).catch(() => undefined);
    throw error;
  } finally {
    await out?.close();
    await source.close();
  }
}

async function checkUnchanged(source: OpenSource, path: string, before: SourceState, consequence: string): Promise<void> {
  const now = await source.state();
  if (now.tag === before.tag) return;
  throw new SourceChangedError(path, before.size, now.size, consequence);
}


