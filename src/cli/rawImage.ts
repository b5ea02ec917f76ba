import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FormatError } from '../errors';
import { locationName, openLocation, type OpenSource, type SnapshotLocation, type SourceState } from '../format/ByteSource';
import type { SnapshotFileHeader } from '../format/decodeHeader';
import { PageTracker, unwrittenRuns } from '../format/PageTracker';
import { readSnapshotSource, type SnapshotTrailer } from '../format/reader';
import { verifySource } from '../format/verify';
import type { BlockInfo } from '../memory/contract';
import { chainProblem } from '../format/chain';
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

/** One file of the chain, open, its header read. */
interface RawLink {
  readonly path: string;
  readonly source: OpenSource;
  readonly before: SourceState;
  header: SnapshotFileHeader;
}

/**
 * Writes the image of the snapshot file at `path` (or object: a
 * `SnapshotSource`) to `into` as raw bytes: its
 * blocks one after another in block order, each page at
 * `(block's first page + page) × pageSize`, the memory as it was at t0.
 * Given a chain (base first: a full snapshot, then its incremental children
 * in order), writes the memory at the newest link's t0: each page from the
 * newest link that holds it.
 *
 * The chain rules are checked from the headers, then every file is verified
 * in full (as `verify` does), through the handle that is then read again for
 * the bytes, so a bad file or chain writes nothing. The image is written
 * under a temporary name in the same folder (zero pages as holes), synced,
 * and given its name only when complete: a hard link, which refuses
 * atomically if the name was taken meanwhile, or a rename with `overwrite`.
 * On any failure or cancel the temporary file is removed, and nothing is
 * left under `into`.
 *
 * The links are written newest first, each page that no newer link wrote;
 * memory is bounded by a bitmap of the pages (one bit a page) and one
 * reader's buffer, whatever the chain's length.
 *
 * @throws OutputExistsError when `into` exists without `overwrite`.
 * @throws InvalidSnapshotError when a file is not a complete, intact snapshot.
 * @throws ChainError when the files are not one chain, naming the first link that breaks it.
 * @throws SourceChangedError when a file changed between its check and its reading.
 * @throws CancelledError when `signal` aborted first.
 */
export async function writeRawImage(files: SnapshotLocation | readonly SnapshotLocation[], into: string, options: RawImageOptions = {}): Promise<RawImageReport> {
  const paths: readonly SnapshotLocation[] = Array.isArray(files) ? files : [files as SnapshotLocation];
  const overwrite = options.overwrite ?? false;
  const signal = options.signal;
  const nothingWritten = `nothing was written to ${JSON.stringify(into)}`;
  const checkCancel = (): void => {
    if (signal?.aborted) throw new CancelledError(signal.reason as NodeJS.Signals, nothingWritten);
  };
  // Refused early when it exists; the link at the end refuses again, atomically.
  if (!overwrite && (await pathExists(into))) throw new OutputExistsError(into);

  const links: RawLink[] = [];
  const temp = join(dirname(into), `.${basename(into)}.${randomBytes(6).toString('hex')}.tmp`);
  let out: FileHandle | undefined;
  /** The temporary file: created by this call, then given its name. */
  let created = false;
  let named = false;
  try {
    // Step 1: every header, then the chain rules; then every file checked whole, before anything is created.
    for (const path of paths) links.push(await openLink(path, nothingWritten));
    const broken = chainProblem(links);
    if (broken !== undefined) throw broken;
    for (const link of links) {
      const report = await verifySource(link.source, link.path);
      if (!report.ok) throw new InvalidSnapshotError(link.path, report.problems, nothingWritten);
      link.header = report.header;
    }
    checkCancel();

    // Step 2: the image, under a temporary name, at its full size: pages never written stay zero.
    const header = (links[0] as RawLink).header;
    const pageSize = header.pageSize;
    const bytes = header.blocks.reduce((n, b) => n + b.size, 0);
    out = await open(temp, 'wx');
    created = true;
    await out.truncate(bytes);

    // Step 3: newest link first, every stored page that no newer link wrote, to its place (checked again as it is read).
    const written = new PageTracker(header.blocks);
    let zeroPages = 0;
    let newestTrailer: SnapshotTrailer | undefined;
    for (let i = links.length - 1; i >= 0; i--) {
      const link = links[i] as RawLink;
      const { trailer, zeros } = await writeLink(link, out, written, checkCancel, nothingWritten);
      zeroPages += zeros;
      newestTrailer ??= trailer;
    }
    const trailer = newestTrailer as SnapshotTrailer;
    const missing = written.missing(trailer.offset);
    if (missing !== undefined) throw new InvalidSnapshotError((links[0] as RawLink).path, [missing], nothingWritten);

    // Step 4: on disk, then under its name: the commit point.
    await out.sync();
    await out.close();
    out = undefined;
    checkCancel();
    if (overwrite) await rename(temp, into);
    else await linkIntoPlace(temp, into, (path) => new OutputExistsError(path));
    named = true;
    await syncDirectory(dirname(into));
    return {
      header: (links[links.length - 1] as RawLink).header,
      trailer,
      bytes,
      blocks: header.blocks.map((b) => ({ name: b.name, offset: b.firstPage * pageSize, size: b.size })),
      pages: written.pages,
      zeroPages,
    };
  } catch (error) {
    // The error that stopped the restore is the one reported; the clean-up's own can only follow it.
    await out?.close().catch(() => undefined);
    out = undefined;
    if (created && !named) await unlink(temp).catch(() => undefined);
    throw error;
  } finally {
    await out?.close();
    await Promise.all(links.map((l) => l.source.close()));
  }
}

/** Opens a file of the chain and reads its header; a bad header is an InvalidSnapshotError. */
async function openLink(location: SnapshotLocation, consequence: string): Promise<RawLink> {
  const path = locationName(location);
  const source = await openLocation(location);
  try {
    const head = await readSnapshotSource(source, path, { chunkBytes: 4096 });
    return { path, source, before: source.opened, header: head.header };
  } catch (error) {
    await source.close();
    if (error instanceof FormatError) throw new InvalidSnapshotError(path, [error], consequence);
    throw error;
  }
}

/**
 * Writes the stored pages of one link that `written` has not seen, and marks
 * them; zero pages not seen are marked and left as holes. Checks that the
 * file read is the file verified.
 */
async function writeLink(
  link: RawLink,
  out: FileHandle,
  written: PageTracker,
  checkCancel: () => void,
  consequence: string,
): Promise<{ trailer: SnapshotTrailer; zeros: number }> {
  const file = await readSnapshotSource(link.source, link.path);
  const { blocks, pageSize } = file.header;
  const own = new PageTracker(blocks, file.header.kind);
  let zeros = 0;
  let problem: FormatError | undefined;
  try {
    for await (const record of file.records()) {
      checkCancel();
      problem = own.mark(record);
      if (problem !== undefined) break;
      const first = (blocks[record.block] as BlockInfo).firstPage;
      for (const span of record.spans()) {
        // Runs of pages within the span that no newer link wrote.
        for (const [i, j] of unwrittenRuns(written, first + span.page, span.count)) {
          if (span.data === null) zeros += j - i;
          else await writeFully(out, span.data.subarray(i * pageSize, j * pageSize), (first + span.page + i) * pageSize);
        }
      }
      written.mark(record);
    }
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    problem = error;
  }
  if (problem === undefined && file.trailer !== undefined) problem = own.missing(file.trailer.offset);
  // The file read is the file checked; a problem it did not have then means it changed.
  await checkUnchanged(link.source, link.path, link.before, consequence);
  if (problem !== undefined) throw new InvalidSnapshotError(link.path, [problem], consequence);
  return { trailer: file.trailer as SnapshotTrailer, zeros };
}

async function checkUnchanged(source: OpenSource, path: string, before: SourceState, consequence: string): Promise<void> {
  const now = await source.state();
  if (now.tag === before.tag) return;
  throw new SourceChangedError(path, before.size, now.size, consequence);
}


