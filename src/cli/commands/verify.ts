import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { checkInputFile } from '../files';
import { verify, type VerifyReport } from '../../format/verify';
import { formatBytes } from '../../sim/format';
import { InvalidSnapshotError } from '../errors';
import { print, problemJson } from '../output';

interface VerifyFlags {
  readonly json?: boolean;
}

/** Adds `bgsnap verify FILE` to `program`. */
export function registerVerify(program: Command): Command {
  return program
    .command('verify')
    .summary('Check a snapshot file: checksums, every page once, the trailer')
    .description(
      'Check a snapshot file through: every record against its crc32, every page present exactly once, the trailer ' +
        'present and matching. Exits 0 when the file is complete and intact, 1 when it is not, naming each problem by byte offset; ' +
        '2 when FILE is missing or a folder.',
    )
    .argument('<file>', 'the snapshot file')
    .option('--json', 'print the report as JSON')
    .action((file: string, flags: VerifyFlags, command: Command) => run(file, flags, command));
}

async function run(path: string, flags: VerifyFlags, command: Command): Promise<void> {
  checkInputFile(path, command);
  const { size } = await stat(path);
  const report = await verify(path);
  print(flags.json ? JSON.stringify(verifyJson(report, size), null, 2) : describeVerify(report, size));
  if (!report.ok) throw new InvalidSnapshotError(path, report.problems);
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
