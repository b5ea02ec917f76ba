import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { FormatError } from '../../errors';
import type { SnapshotFileHeader } from '../../format/decodeHeader';
import { openSnapshot, type SnapshotTrailer } from '../../format/reader';
import { formatBytes, formatTable } from '../../sim/format';
import type { SaveVia } from '../../storage/Sink';
import { InvalidSnapshotError } from '../errors';
import { checkInputFile } from '../files';
import { print, problemJson } from '../output';

interface InspectFlags {
  readonly json?: boolean;
}

/** Records and pages of one kind: how they reached storage. */
interface Tally {
  records: number;
  pages: number;
}

/** What `inspect` read from a file: its header, and its records counted by how they were saved. */
export interface Inspection {
  readonly path: string;
  readonly fileBytes: number;
  readonly header: SnapshotFileHeader;
  /** Records and pages by how they reached storage (the records' `via`). */
  readonly saved: Readonly<Record<SaveVia, Readonly<Tally>>>;
  /** Pages stored as zero pages, without data. */
  readonly zeroPages: number;
  /** Bytes of all records read, from the end of the header. */
  readonly recordBytes: number;
  /** The trailer, when the reading reached it and it matched the records. */
  readonly trailer: SnapshotTrailer | undefined;
  /** What stopped the reading before the trailer, or a trailer that did not match. */
  readonly problem: FormatError | undefined;
}

/** Adds `bgsnap inspect FILE...` to `program`. */
export function registerInspect(program: Command): Command {
  return program
    .command('inspect')
    .summary("Show a snapshot file's header, identity, cut and record counts")
    .description(
      'Show what a snapshot file holds: its header (kind, id, parent, root and link in its chain, page size, blocks, strategy, t0, ' +
        'the per-writer cut), its records and pages by how they were saved (bulk, fault, copy), zero pages and the file size. ' +
        'Given several files (a chain, base first), shows each in turn (as a JSON array with --json). Exits 1 when a file cannot be read ' +
        'through (2 when a FILE is missing or a folder); `bgsnap verify` checks files and chains in full.',
    )
    .argument('<file...>', 'the snapshot file, or several (a chain, base first)')
    .option('--json', 'print what was read as JSON')
    .action((files: string[], flags: InspectFlags, command: Command) => run(files, flags, command));
}

async function run(paths: readonly string[], flags: InspectFlags, command: Command): Promise<void> {
  for (const path of paths) checkInputFile(path, command);
  const inspections: Inspection[] = [];
  for (const path of paths) {
    const { size } = await stat(path);
    try {
      inspections.push(await inspect(path, size));
    } catch (error) {
      // A header that cannot be read leaves nothing to show.
      if (error instanceof FormatError) throw new InvalidSnapshotError(path, [error]);
      throw error;
    }
  }
  const json = inspections.map(inspectionJson);
  const text = inspections.map((i) => formatTable(inspectionRows(i), 'text')).join('\n\n');
  print(flags.json ? JSON.stringify(json.length === 1 ? json[0] : json, null, 2) : text);
  const bad = inspections.find((i) => i.problem !== undefined);
  if (bad?.problem !== undefined) {
    throw new InvalidSnapshotError(bad.path, [bad.problem], 'the counts above stop at that byte');
  }
}

/**
 * Reads a snapshot file through and counts its records. Each record is
 * checked against its crc32 as it is read, and the trailer against the
 * records; unlike `verify`, pages are not tracked, so a page missing or
 * repeated is not seen.
 * @throws FormatError when the header is bad; a problem after it ends the reading and is returned as `problem`.
 */
export async function inspect(path: string, fileBytes: number): Promise<Inspection> {
  const file = await openSnapshot(path);
  const saved: Record<SaveVia, Tally> = { bulk: { records: 0, pages: 0 }, fault: { records: 0, pages: 0 }, copy: { records: 0, pages: 0 } };
  let zeroPages = 0;
  let recordBytes = 0;
  let problem: FormatError | undefined;
  try {
    for await (const record of file.records()) {
      const tally = saved[record.via];
      tally.records++;
      tally.pages += record.count;
      zeroPages += record.zeroPages;
      recordBytes += record.byteLength;
    }
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    problem = error;
  }
  return { path, fileBytes, header: file.header, saved, zeroPages, recordBytes, trailer: file.trailer, problem };
}

/** Label/value rows for the terminal. */
function inspectionRows(i: Inspection): string[][] {
  const { header: h, saved } = i;
  const totalPages = h.blocks.reduce((n, b) => n + b.pages, 0);
  const read = saved.bulk.pages + saved.fault.pages + saved.copy.pages;
  const records = saved.bulk.records + saved.fault.records + saved.copy.records;
  const by = (via: SaveVia): string => `${via} ${saved[via].records} (${saved[via].pages} pages)`;
  const rows: string[][] = [
    ['file', `${JSON.stringify(i.path)}, ${i.fileBytes} bytes (${formatBytes(i.fileBytes)})`],
    ['format', `version ${h.version}, header ${h.byteLength} bytes`],
    ['kind', h.kind],
    ['id', h.identity?.id ?? 'none (version 1)'],
    ['parent', h.identity?.parent ?? 'none'],
    ['root', h.identity?.root ?? 'none'],
    ['link', h.identity === undefined ? 'none' : String(h.identity.link)],
    ['strategy', h.strategy],
    ['t0', isoTime(h.wallTime)],
    ['page size', formatBytes(h.pageSize)],
    ['memory', `${formatBytes(totalPages * h.pageSize)} (${totalPages} pages) in ${h.blocks.length} block${h.blocks.length === 1 ? '' : 's'}`],
    ...h.blocks.map((b, n) => [n === 0 ? 'blocks' : '', `${b.name}: ${formatBytes(b.size)} (${b.pages} pages), from page ${b.firstPage}`]),
    ['cut', h.cut === undefined ? 'none' : `${h.cut.length} writer${h.cut.length === 1 ? '' : 's'}: ${h.cut.join(', ')} writes in the image`],
    ['records', `${records}: ${by('bulk')}, ${by('fault')}, ${by('copy')}`],
    ['pages', `${read} of ${totalPages} read, ${i.zeroPages} of them zero (stored without data)`],
    ['record bytes', `${i.recordBytes} (${formatBytes(i.recordBytes)})`],
    [
      'trailer',
      i.trailer === undefined
        ? 'not reached'
        : `at byte ${i.trailer.offset}: ${i.trailer.records} records, ${i.trailer.pages} pages, ${i.trailer.zeroPages} zero, stream crc 0x${i.trailer.streamCrc.toString(16).padStart(8, '0')}`,
    ],
  ];
  if (i.problem !== undefined) rows.push(['problem', i.problem.message]);
  return rows;
}

/** The inspection as `--json` prints it. */
function inspectionJson(i: Inspection) {
  const { header: h, saved } = i;
  return {
    path: i.path,
    fileBytes: i.fileBytes,
    header: {
      version: h.version,
      byteLength: h.byteLength,
      kind: h.kind,
      /** The snapshot's place in its chain; null for version 1. */
      identity: h.identity === undefined ? null : { id: h.identity.id, parent: h.identity.parent ?? null, root: h.identity.root, link: h.identity.link },
      pageSize: h.pageSize,
      strategy: h.strategy,
      /** The writers' clock at t0, in milliseconds (a timestamp, not a duration). */
      t0: h.t0,
      /** Milliseconds since the epoch at t0. */
      wallTime: h.wallTime,
      wallTimeIso: isoTime(h.wallTime),
      blocks: h.blocks.map((b) => ({ name: b.name, size: b.size, pages: b.pages, firstPage: b.firstPage })),
      totalPages: h.blocks.reduce((n, b) => n + b.pages, 0),
      cut: h.cut ?? null,
    },
    records: {
      total: saved.bulk.records + saved.fault.records + saved.copy.records,
      bulk: saved.bulk.records,
      fault: saved.fault.records,
      copy: saved.copy.records,
    },
    pages: {
      total: saved.bulk.pages + saved.fault.pages + saved.copy.pages,
      bulk: saved.bulk.pages,
      fault: saved.fault.pages,
      copy: saved.copy.pages,
      zero: i.zeroPages,
    },
    recordBytes: i.recordBytes,
    trailer: i.trailer ?? null,
    problem: i.problem === undefined ? null : problemJson(i.problem),
  };
}

/** Milliseconds since the epoch as an ISO 8601 time, or as they are when no date has them (a finite but huge value). */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms since the epoch` : date.toISOString();
}
