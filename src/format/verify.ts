import { open, type FileHandle } from 'node:fs/promises';
import { FormatError, OptionError, type ChainError } from '../errors';
import { chainProblem } from './chain';
import { pageCountProblem, type SnapshotFileHeader } from './decodeHeader';
import { PageTracker } from './PageTracker';
import { readSnapshot, type SnapshotFileReader, type SnapshotTrailer } from './reader';

/** At most this many problems are listed; the first one is what matters. */
const MAX_PROBLEMS = 100;

/** What `verify` found; `ok` discriminates. */
export type VerifyReport = VerifyPassed | VerifyFailed;

interface VerifyCounts {
  readonly path: string;
  /** Records read with a good crc32. */
  readonly records: number;
  /** Distinct pages found in them (0 when the header claims more pages than the file can hold: they are not tracked then). */
  readonly pages: number;
  /** Of which stored as zero pages. */
  readonly zeroPages: number;
}

/** Every page present exactly once, every checksum good, the trailer present and matching. */
export interface VerifyPassed extends VerifyCounts {
  readonly ok: true;
  readonly header: SnapshotFileHeader;
  readonly trailer: SnapshotTrailer;
  readonly problems: readonly [];
}

/** The file is not a complete, intact snapshot. `problems[0]` is the first thing wrong, by byte offset. */
export interface VerifyFailed extends VerifyCounts {
  readonly ok: false;
  /** Undefined when the header itself is bad. */
  readonly header: SnapshotFileHeader | undefined;
  /** Undefined when the trailer is missing or bad. */
  readonly trailer: SnapshotTrailer | undefined;
  /** In file order, at most 100. Reading stops at the first problem in the structure (a checksum, a field, the end). */
  readonly problems: readonly [FormatError, ...FormatError[]];
}

/** What `verify` found in a chain; `ok` discriminates. */
export type ChainVerifyReport = ChainVerifyPassed | ChainVerifyFailed;

/** Every link intact, and the links one chain, base first. */
export interface ChainVerifyPassed {
  readonly ok: true;
  /** One report per link, in the order given. */
  readonly links: readonly VerifyPassed[];
  readonly chain: undefined;
}

/** A link is not intact, or the links are not one chain. */
export interface ChainVerifyFailed {
  readonly ok: false;
  /** One report per link, in the order given; each says what is wrong in its file. */
  readonly links: readonly VerifyReport[];
  /** The first link that breaks the chain rules; `undefined` when they hold or a header could not be read. */
  readonly chain: ChainError | undefined;
}

/**
 * Reads a snapshot file through and checks it: the header, every record's
 * crc32 and fields, every page present exactly once (at most once in an
 * incremental snapshot), the index and the trailer's counts and stream
 * checksum. Refuses a truncated file, whatever the offset. Never throws for
 * a bad file: the report says what is wrong and at which byte. Holds one
 * record and a bitmap of the pages (one bit a page) at a time, and allocates
 * the bitmap only for a page count the file can hold.
 *
 * Given a list of files, base first, checks each one so, and that they are
 * one chain (docs/FORMAT.md, "Chains").
 * @throws the file system's error when a file cannot be opened or read.
 */
export function verify(path: string): Promise<VerifyReport>;
export function verify(files: readonly string[]): Promise<ChainVerifyReport>;
export function verify(files: string | readonly string[]): Promise<VerifyReport | ChainVerifyReport>;
export async function verify(files: string | readonly string[]): Promise<VerifyReport | ChainVerifyReport> {
  if (typeof files === 'string') return verifyFile(files);
  if (files.length === 0) throw new OptionError('files', 'at least one snapshot file, base first', files);
  // Step 1: each link on its own.
  const links: VerifyReport[] = [];
  for (const path of files) links.push(await verifyFile(path));
  // Step 2: the chain, from the headers, when every one could be read.
  const headers = links.flatMap((r) => (r.header === undefined ? [] : [{ path: r.path, header: r.header }]));
  const chain = headers.length === links.length ? chainProblem(headers) : undefined;
  if (chain === undefined && links.every((r): r is VerifyPassed => r.ok)) return { ok: true, links, chain: undefined };
  return { ok: false, links, chain };
}

async function verifyFile(path: string): Promise<VerifyReport> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return await verifyHandle(handle, path, size);
  } finally {
    await handle.close();
  }
}

/**
 * `verify` on an open handle, reading from byte 0; the handle stays open.
 * @param size the file's size, from the handle's `stat`.
 */
export async function verifyHandle(handle: FileHandle, path: string, size: number): Promise<VerifyReport> {
  const problems: FormatError[] = [];
  const counts = { path, records: 0, pages: 0, zeroPages: 0 };
  // Step 1: the header; without it nothing else can be read.
  let file: SnapshotFileReader;
  try {
    file = await readSnapshot(handle, path, size);
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    return { ok: false, header: undefined, trailer: undefined, problems: [error], ...counts };
  }
  // Step 2: the records, each page marked in a bitmap; a repeat is a problem, but reading goes on.
  // A header that claims more pages than the file can hold gets no bitmap: the records are still
  // read, since a file cut short is the likelier story, and its first problem says where.
  const tooMany = pageCountProblem(file.decoded, size);
  const tracker = tooMany === undefined ? new PageTracker(file.header.blocks, file.header.kind) : undefined;
  try {
    for await (const record of file.records()) {
      counts.records++;
      const repeat = tracker?.mark(record);
      if (repeat !== undefined && problems.length < MAX_PROBLEMS) problems.push(repeat);
      else if (repeat === undefined) counts.zeroPages += record.zeroPages;
    }
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    if (problems.length < MAX_PROBLEMS) problems.push(error);
  }
  counts.pages = tracker?.pages ?? 0;
  // Step 3: with the trailer reached, every page must have been there; with records and
  // trailer intact, a header claiming more pages than the file can hold is what is wrong.
  const trailer = file.trailer;
  const at = file.trailerOffset;
  if (tooMany !== undefined && problems.length === 0) problems.push(tooMany);
  const missing = at !== undefined ? tracker?.missing(at) : undefined;
  if (missing !== undefined && problems.length < MAX_PROBLEMS) problems.push(missing);
  const [first, ...rest] = problems;
  if (first === undefined && trailer !== undefined) return { ok: true, header: file.header, trailer, problems: [], ...counts };
  return {
    ok: false,
    header: file.header,
    trailer,
    problems: [first as FormatError, ...rest],
    ...counts,
  };
}
