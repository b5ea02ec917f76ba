import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { checkInputFile } from '../files';
import { verify, type ChainVerifyReport, type VerifyReport } from '../../format/verify';
import { formatBytes } from '../../sim/format';
import { InvalidSnapshotError } from '../errors';
import { print, problemJson } from '../output';

interface VerifyFlags {
  readonly json?: boolean;
}

/** Adds `bgsnap verify FILE...` to `program`. */
export function registerVerify(program: Command): Command {
  return program
    .command('verify')
    .summary('Check a snapshot file, or a chain of them: checksums, every page once, the trailer')
    .description(
      'Check a snapshot file through: every record against its crc32, every page present exactly once, the trailer ' +
        'present and matching. Given several files (a chain, base first), checks each one so, and that they are one chain: ' +
        'a full snapshot, then its incremental children in order. Exits 0 when every file is complete and intact (and the files one chain), ' +
        '1 when not, naming each problem by byte offset and a bad link by its number and path; 2 when a FILE is missing or a folder.',
    )
    .argument('<file...>', 'the snapshot file, or the files of a chain, base first')
    .option('--json', 'print the report as JSON')
    .action((files: string[], flags: VerifyFlags, command: Command) => run(files, flags, command));
}

async function run(paths: readonly string[], flags: VerifyFlags, command: Command): Promise<void> {
  for (const path of paths) checkInputFile(path, command);
  const sizes = await Promise.all(paths.map(async (path) => (await stat(path)).size));
  // One file: its report, as it has always been.
  if (paths.length === 1) {
    const path = paths[0] as string;
    const report = await verify(path);
    print(flags.json ? JSON.stringify(verifyJson(report, sizes[0] ?? 0), null, 2) : describeVerify(report, sizes[0] ?? 0));
    if (!report.ok) throw new InvalidSnapshotError(path, report.problems);
    return;
  }
  // A chain: each link's report, then the chain's line.
  const report = await verify(paths);
  const text = [...report.links.map((link, i) => describeVerify(link, sizes[i] ?? 0)), describeChainVerify(report)].join('\n');
  const json = { ok: report.ok, links: report.links.map((link, i) => verifyJson(link, sizes[i] ?? 0)), chain: chainCheckJson(report) };
  print(flags.json ? JSON.stringify(json, null, 2) : text);
  throwIfChainBad(report);
}

/** The chain's check as `--json` prints it: whether it is one chain, and the first link that breaks it. */
export function chainCheckJson(report: ChainVerifyReport) {
  const bad = report.chain;
  return {
    ok: report.ok,
    links: report.links.length,
    broken: bad === undefined ? null : { link: bad.link, path: bad.path, reason: bad.reason, message: bad.message },
    invalidLinks: report.links.flatMap((r, i) => (r.ok ? [] : [i])),
  };
}

/** One line for the chain: `ok: …`, or `FAIL: …` naming the first link that breaks it. */
export function describeChainVerify(report: ChainVerifyReport): string {
  const n = report.links.length;
  const first = report.links[0] as VerifyReport;
  const last = report.links[n - 1] as VerifyReport;
  if (report.ok) {
    return `ok: the ${n} files are one chain: ${JSON.stringify(first.path)} (full) to link ${n - 1} ${JSON.stringify(last.path)}; restored, they give the memory at its t0`;
  }
  if (report.chain !== undefined) return `FAIL: the ${n} files are not one chain: ${report.chain.message}`;
  const bad = report.links.findIndex((r) => !r.ok);
  return `FAIL: the ${n} files are not a valid chain: link ${bad} (${(report.links[bad] as VerifyReport).path}) is not a valid snapshot`;
}

/** Throws for a chain that did not check: the ChainError, or the first invalid link's problems. */
export function throwIfChainBad(report: ChainVerifyReport): void {
  if (report.ok) return;
  if (report.chain !== undefined) throw report.chain;
  const bad = report.links.find((r): r is VerifyReport & { ok: false } => !r.ok);
  if (bad !== undefined) throw new InvalidSnapshotError(bad.path, bad.problems);
}

/** The report as `--json` prints it. */
function verifyJson(report: VerifyReport, fileBytes: number) {
  const { header } = report;
  return {
    ok: report.ok,
    path: report.path,
    fileBytes,
    pageSize: header?.pageSize ?? null,
    totalPages: header === undefined ? null : header.blocks.reduce((n, b) => n + b.pages, 0),
    records: report.records,
    pages: report.pages,
    zeroPages: report.zeroPages,
    problems: report.problems.map(problemJson),
  };
}

/** The pass line, or the failure line and one line per problem. */
export function describeVerify(report: VerifyReport, fileBytes: number): string {
  const name = JSON.stringify(report.path);
  if (report.ok) {
    const { pageSize } = report.header;
    return (
      `ok: ${name} is a complete snapshot: ${report.pages} pages of ${formatBytes(pageSize)} (${formatBytes(report.pages * pageSize)}), ` +
      `${report.zeroPages} of them zero, in ${report.records} records; ${fileBytes} bytes (${formatBytes(fileBytes)})`
    );
  }
  const n = report.problems.length;
  return [
    `FAIL: ${name} is not a valid snapshot: ${n} problem${n === 1 ? '' : 's'} (${report.records} good records read, ${fileBytes} bytes in the file)`,
    ...report.problems.map((p) => `  at byte ${p.offset}: expected ${p.expected}, found ${p.found}`),
  ].join('\n');
}
