import { FormatError } from '../errors';
import type { SnapshotFileHeader } from './decodeHeader';
import { PageTracker } from './PageTracker';
import { openSnapshot, type SnapshotFile, type SnapshotTrailer } from './reader';

/** At most this many problems are listed; the first one is what matters. */
const MAX_PROBLEMS = 100;

/** What `verify` found; `ok` discriminates. */
export type VerifyReport = VerifyPassed | VerifyFailed;

interface VerifyCounts {
  readonly path: string;
  /** Records read with a good crc32. */
  readonly records: number;
  /** Distinct pages found in them. */
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

/**
 * Reads a snapshot file through and checks it: the header, every record's
 * crc32 and fields, every page present exactly once, and the trailer's
 * counts and stream checksum. Refuses a truncated file, whatever the
 * offset. Never throws for a bad file: the report says what is wrong and at
 * which byte.
 * @throws the file system's error when the file cannot be opened or read.
 */
export async function verify(path: string): Promise<VerifyReport> {
  const problems: FormatError[] = [];
  const counts = { path, records: 0, pages: 0, zeroPages: 0 };
  // Step 1: the header; without it nothing else can be read.
  let file: SnapshotFile;
  try {
    file = await openSnapshot(path);
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    return { ok: false, header: undefined, trailer: undefined, problems: [error], ...counts };
  }
  // Step 2: the records, each page marked; a repeat is a problem, but reading goes on.
  const tracker = new PageTracker(file.header.blocks);
  try {
    for await (const record of file.records()) {
      counts.records++;
      const repeat = tracker.mark(record);
      if (repeat !== undefined && problems.length < MAX_PROBLEMS) problems.push(repeat);
      else if (repeat === undefined) counts.zeroPages += record.zeroPages;
    }
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    if (problems.length < MAX_PROBLEMS) problems.push(error);
  }
  counts.pages = tracker.pages;
  // Step 3: with the trailer reached, every page must have been there.
  const trailer = file.trailer;
  const at = file.trailerOffset;
  const missing = at !== undefined ? tracker.missing(at) : undefined;
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
