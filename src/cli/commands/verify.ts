import type { Command } from 'commander';
import { endpointOption, snapshotInput } from '../files';
import { verify, type VerifyReport } from '../../format/verify';
import { formatBytes } from '../../sim/format';
import { InvalidSnapshotError } from '../errors';
import { print, problemJson } from '../output';

interface VerifyFlags {
  readonly json?: boolean;
  readonly endpoint?: string;
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
    .addOption(endpointOption())
    .action((file: string, flags: VerifyFlags, command: Command) => run(file, flags, command));
}

async function run(path: string, flags: VerifyFlags, command: Command): Promise<void> {
  const { location, size } = await snapshotInput(path, command, flags.endpoint);
  const report = await verify(location);
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
    codec: header?.codec ?? null,
    dataBytes: report.dataBytes,
    storedDataBytes: report.storedDataBytes,
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
      `${report.zeroPages} of them zero, in ${report.records} records; ${fileBytes} bytes (${formatBytes(fileBytes)})` +
      (report.header.codec === 'none' ? '' : `; ${report.header.codec}, ${compressionText(report.dataBytes, report.storedDataBytes)}`)
    );
  }
  const n = report.problems.length;
  return [
    `FAIL: ${name} is not a valid snapshot: ${n} problem${n === 1 ? '' : 's'} (${report.records} good records read, ${fileBytes} bytes in the file)`,
    ...report.problems.map((p) => `  at byte ${p.offset}: expected ${p.expected}, found ${p.found}`),
  ].join('\n');
}

/** Raw page bytes ÷ stored bytes, as `ratio 2.41 (… of pages in …)`. */
export function compressionText(dataBytes: number, storedDataBytes: number): string {
  const ratio = storedDataBytes === 0 ? 1 : dataBytes / storedDataBytes;
  return `ratio ${ratio.toFixed(2)} (${formatBytes(dataBytes)} of pages stored in ${formatBytes(storedDataBytes)})`;
}
