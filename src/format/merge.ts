import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileExistsError, OptionError, type FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import { linkIntoPlace, pathExists, syncDirectory } from '../storage/commitFile';
import type { PageRun, SnapshotHeader } from '../storage/Sink';
import { fileSource } from './ByteSource';
import { chainProblem } from './chain';
import type { SnapshotFileHeader } from './decodeHeader';
import { RecordEncoder } from './encode';
import { PageTracker } from './PageTracker';
import { readIndex } from './randomAccess';
import { readSnapshot, type SnapshotTrailer } from './reader';
import { verifyHandle } from './verify';

/** How `merge` names its output. */
export interface MergeOptions {
  /** Replace a file at `out`. @default false */
  readonly overwrite?: boolean;
}

/** What `merge` took from one file of the chain. */
export interface MergeLinkReport {
  readonly path: string;
  /** Pages of the output taken from this link: those no newer link holds. */
  readonly pages: number;
}

/** What `merge` wrote: one full snapshot, verified. */
export interface MergeReport {
  readonly path: string;
  /** The output's header: a new id, kind full; t0, wall time, strategy and cut from the newest link. */
  readonly header: SnapshotFileHeader;
  readonly trailer: SnapshotTrailer;
  /** Bytes of the output file. */
  readonly bytes: number;
  readonly records: number;
  /** Every page of the memory. */
  readonly pages: number;
  /** Of which stored as zero pages. */
  readonly zeroPages: number;
  /** Per file, in the order given (base first). */
  readonly links: readonly MergeLinkReport[];
}

/** Bytes of one staging buffer: page data being written. */
const STAGING_BYTES = 8 * 1024 * 1024;
/** Staging buffers: one being filled while the others' writes are in flight. */
const STAGING_BUFFERS = 4;
/** Bytes of the first read of a file, for its header alone. */
const HEADER_READ_BYTES = 4096;

/** One file of the chain, open. */
interface OpenLink {
  readonly path: string;
  readonly handle: FileHandle;
  readonly size: number;
  readonly header: SnapshotFileHeader;
}

/**
 * Merges a chain (base first: a full snapshot, then its incremental children
 * in order) into one full snapshot file at `out`, holding each page as the
 * newest link that has it holds it: the memory at the newest link's t0. The
 * output is a version 2 full snapshot with a new id; its t0, wall time,
 * strategy and cut are the newest link's.
 *
 * Checks first, before anything is created: the chain rules (as `verify`
 * does for a list), and each incremental link read through and verified.
 * Then it streams: the base is read front to back once (every record
 * checked against its crc32, every page present exactly once, its index and
 * trailer), writing the pages no newer link holds; then each incremental
 * link front to back, writing the pages that it is the newest to hold. The
 * output is written under a temporary name in `out`'s folder, synced,
 * verified in full, and only then given its name: a bad chain or a failure
 * leaves nothing under `out`.
 *
 * Memory is bounded whatever the chain's size: a link number per page (one
 * byte a page, two with more than 255 links), a bitmap of the base's pages
 * (one bit a page), four staging buffers of 8 MiB, and one reader's buffer
 * (4 MiB, or the largest record); the incremental links' page indexes only
 * while the per-page table is built from them.
 *
 * @throws OptionError when `files` is empty or has more than 65535 links.
 * @throws FileExistsError when `out` exists and `overwrite` is not set; also when it appears meanwhile.
 * @throws ChainError naming the first link that breaks the chain rules; nothing is written then.
 * @throws FormatError naming the byte of the first problem in a link; nothing is left under `out`.
 */
export async function merge(files: readonly string[], out: string, options: MergeOptions = {}): Promise<MergeReport> {
  if (!Array.isArray(files) || files.length === 0) throw new OptionError('files', 'at least one snapshot file, base first', files);
  if (files.length > 0xffff) throw new OptionError('files', 'at most 65535 links', files.length);
  const overwrite = options.overwrite ?? false;
  // Refused early when it exists; the link at the end refuses again, atomically.
  if (!overwrite && (await pathExists(out))) throw new FileExistsError(out);
  const links: OpenLink[] = [];
  try {
    // Step 1: every header, then the chain rules: a few KiB a file.
    for (const path of files) links.push(await openLink(path));
    const broken = chainProblem(links);
    if (broken !== undefined) throw broken;
    const base = links[0] as OpenLink;
    const newest = links[links.length - 1] as OpenLink;
    const { blocks } = base.header;
    // Step 2: each incremental link verified whole, then, from its index, which pages it is the newest to hold.
    const newestLink = pageTable(base.header, links.length);
    for (let i = 1; i < links.length; i++) {
      const link = links[i] as OpenLink;
      const report = await verifyHandle(link.handle, link.path, link.size);
      if (!report.ok) throw report.problems[0];
      const { entries } = await readIndex(fileSource(link.handle, link.size));
      for (let e = 0; e < entries.length; e++) {
        const first = (blocks[entries.block(e)] as BlockInfo).firstPage + entries.firstPage(e);
        newestLink.fill(i, first, first + entries.count(e));
      }
    }
    // Step 3: the output, from the base, then from each incremental link in order.
    const header: SnapshotHeader = {
      pageSize: base.header.pageSize,
      blocks,
      t0: newest.header.t0,
      wallTime: newest.header.wallTime,
      strategy: newest.header.strategy,
      ...(newest.header.cut === undefined ? {} : { cut: newest.header.cut }),
    };
    return await writeOutput(out, header, links, newestLink, overwrite);
  } finally {
    await Promise.all(links.map((l) => l.handle.close()));
  }
}

async function openLink(path: string): Promise<OpenLink> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = await readSnapshot(handle, path, size, { chunkBytes: HEADER_READ_BYTES });
    return { path, handle, size, header: head.header };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** A link number per global page, all 0 (the base): one byte a page, two past 255 links. */
function pageTable(header: SnapshotFileHeader, links: number): Uint8Array | Uint16Array {
  const last = header.blocks[header.blocks.length - 1];
  const pages = last === undefined ? 0 : last.firstPage + last.pages;
  return links <= 0x100 ? new Uint8Array(pages) : new Uint16Array(pages);
}

/**
 * Writes the merged snapshot under a temporary name, syncs and verifies it,
 * then gives it the name `out`. Removes the temporary file on any failure.
 */
async function writeOutput(
  out: string,
  header: SnapshotHeader,
  links: readonly OpenLink[],
  newestLink: Uint8Array | Uint16Array,
  overwrite: boolean,
): Promise<MergeReport> {
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx+');
  let closed = false;
  let named = false;
  try {
    // Step 1: the records, link by link, each page from the newest link that holds it.
    const writer = new StagedWriter(handle, new RecordEncoder(header), header.pageSize);
    const reports: MergeLinkReport[] = [];
    for (let i = 0; i < links.length; i++) reports.push(await copyLink(links[i] as OpenLink, i, newestLink, writer));
    const bytes = await writer.end();
    // Step 2: on disk, then checked as a reader sees it, then named: the commit point.
    await handle.sync();
    const report = await verifyHandle(handle, out, bytes);
    if (!report.ok) throw report.problems[0];
    closed = true;
    await handle.close();
    if (overwrite) await rename(temp, out);
    else await linkIntoPlace(temp, out, (path) => new FileExistsError(path));
    named = true;
    await syncDirectory(dirname(out));
    const { trailer } = report;
    return { path: out, header: report.header, trailer, bytes, records: trailer.records, pages: trailer.pages, zeroPages: trailer.zeroPages, links: reports };
  } finally {
    if (!closed) await handle.close().catch(() => undefined);
    if (!named) await rm(temp, { force: true });
  }
}

/**
 * Reads link `index` front to back, every record checked, and writes the
 * pages it is the newest to hold (`newestLink[page] === index`). The base
 * must hold every page exactly once.
 */
async function copyLink(link: OpenLink, index: number, newestLink: Uint8Array | Uint16Array, writer: StagedWriter): Promise<MergeLinkReport> {
  const file = await readSnapshot(link.handle, link.path, link.size);
  const { blocks } = file.header;
  // The base is checked as it is read: each page once, and all of them.
  const tracker = index === 0 ? new PageTracker(blocks) : undefined;
  let pages = 0;
  for await (const record of file.records()) {
    const repeat = tracker?.mark(record);
    if (repeat !== undefined) throw repeat;
    const first = (blocks[record.block] as BlockInfo).firstPage;
    for (const span of record.spans()) {
      // Runs of pages within the span that this link is the newest to hold.
      for (let i = 0; i < span.count; ) {
        if (newestLink[first + span.page + i] !== index) {
          i++;
          continue;
        }
        let j = i + 1;
        while (j < span.count && newestLink[first + span.page + j] === index) j++;
        await writer.write(record.block, span.page + i, j - i, span.data === null ? null : span.data.subarray(i * writer.pageSize, j * writer.pageSize), record.via);
        pages += j - i;
        i = j;
      }
    }
  }
  const missing: FormatError | undefined = tracker?.missing((file.trailer as SnapshotTrailer).offset);
  if (missing !== undefined) throw missing;
  return { path: link.path, pages };
}

/**
 * Encodes runs into records and writes them, through staging buffers: the
 * run's pages are copied into the buffer being filled (the reader reuses
 * its own), and a full buffer goes out as one positional `writev` while the
 * next one fills. At most `STAGING_BUFFERS` buffers exist.
 */
class StagedWriter {
  /** Buffers not in use. */
  private readonly free: Buffer[] = [];
  /** Writes in flight, oldest first, each with the buffer it holds. */
  private readonly inFlight: { readonly done: Promise<void>; readonly buffer: Buffer | undefined }[] = [];
  private buffers = 0;
  private current: Buffer | undefined;
  /** Bytes of `current` filled. */
  private filled = 0;
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;
  private position = 0;
  /** The first write error: the output is broken, and every later step fails with it. */
  private failure: Error | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly encoder: RecordEncoder,
    readonly pageSize: number,
  ) {
    // The header goes out with the first buffer's records.
    this.chunks.push(encoder.headerBytes);
    this.chunkBytes = encoder.headerBytes.length;
    this.current = Buffer.allocUnsafe(STAGING_BYTES);
    this.buffers = 1;
  }

  /** Appends `count` pages from `page` of block `block`: `data`, or zero pages when `null`. */
  async write(block: number, page: number, count: number, data: Uint8Array | null, via: PageRun['via']): Promise<void> {
    const perBuffer = Math.floor(STAGING_BYTES / this.pageSize);
    for (let done = 0; done < count; ) {
      // Step 1: room in the buffer being filled, for at least one page.
      if (this.current === undefined || this.filled + this.pageSize > this.current.length) await this.flush();
      const buffer = this.current as Buffer;
      const n = Math.min(count - done, Math.floor((buffer.length - this.filled) / this.pageSize), perBuffer);
      // Step 2: the pages into it, and their record's chunks out of it.
      const bytes = n * this.pageSize;
      const view = buffer.subarray(this.filled, this.filled + bytes);
      if (data === null) view.fill(0);
      else view.set(data.subarray(done * this.pageSize, done * this.pageSize + bytes));
      this.filled += bytes;
      this.chunkBytes += this.encoder.encode({ block, page: page + done, count: n, data: view, via }, this.chunks);
      done += n;
    }
  }

  /** Writes the index and trailer after what is staged; resolves to the file's size once every write is done. */
  async end(): Promise<number> {
    for (const chunk of this.encoder.end()) {
      this.chunks.push(chunk);
      this.chunkBytes += chunk.length;
    }
    await this.flush();
    await Promise.all(this.inFlight.map((w) => w.done));
    if (this.failure !== undefined) throw this.failure;
    return this.position;
  }

  /** Starts the write of what is staged, and makes a buffer ready to fill: a new one, a free one, or the oldest once its write is done. */
  private async flush(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.chunks.length > 0) {
      const chunks = this.chunks;
      const at = this.position;
      this.position += this.chunkBytes;
      this.chunks = [];
      this.chunkBytes = 0;
      const done = writeChunks(this.handle, chunks, at).catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      });
      this.inFlight.push({ done, buffer: this.current });
    } else if (this.current !== undefined) {
      this.free.push(this.current);
    }
    this.current = undefined;
    this.filled = 0;
    while (this.free.length === 0 && this.buffers >= STAGING_BUFFERS) {
      const oldest = this.inFlight.shift();
      if (oldest === undefined) break;
      await oldest.done;
      if (oldest.buffer !== undefined) this.free.push(oldest.buffer);
    }
    if (this.failure !== undefined) throw this.failure;
    if (this.free.length > 0) this.current = this.free.pop();
    else {
      this.buffers++;
      this.current = Buffer.allocUnsafe(STAGING_BYTES);
    }
  }
}

/** Writes `chunks` at `position`, going on after a short write. */
async function writeChunks(handle: FileHandle, chunks: Uint8Array[], position: number): Promise<void> {
  let rest = chunks;
  let at = position;
  while (rest.length > 0) {
    const total = rest.reduce((n, c) => n + c.length, 0);
    const { bytesWritten } = await handle.writev(rest, at);
    if (bytesWritten === total) return;
    if (bytesWritten <= 0) throw Object.assign(new Error(`writev made no progress at byte ${at}`), { code: 'EIO' });
    at += bytesWritten;
    // Drop what was written.
    let skip = bytesWritten;
    let i = 0;
    while (skip >= (rest[i] as Uint8Array).length) skip -= (rest[i++] as Uint8Array).length;
    rest = rest.slice(i);
    if (skip > 0) rest[0] = (rest[0] as Uint8Array).subarray(skip);
  }
}
