import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { verify, type VerifyReport } from '../../format/verify';
import { CancelledError, InvalidSnapshotError, OutputExistsError } from '../errors';
import { checkSnapshotOutput, compressionOf, compressOption, endpointOption, snapshotSize } from '../files';
import { print } from '../output';
import { isS3Url } from '../../s3/url';
import { parseChoice, parseInteger, parseNumber, parseSize } from '../parse';
import { usageError } from '../usage';
import { addGuestOptions, checkGuestFlags, defaultRunPool, guestConfig, RUN_POOL_DEFAULT_TEXT, type GuestFlags } from '../run/flags';
import { chainFiles, runGuest } from '../run/guest';
import { chainLinks, chainText, runFigures, runReport, runReportText, withRepeats } from '../run/report';
import type { RunFigures } from '../run/spread';
import { withCancelSignals } from '../signals';
import { chainCheckJson, describeChainVerify, describeVerify, throwIfChainBad } from './verify';
import { resolve } from 'node:path';
import { openSnapshot } from '../../format/reader';

/** The guest size and page size of the snapshot at `path` (its first block is the guest's RAM). */
async function guestGeometry(path: string): Promise<{ ram: number; pageSize: number }> {
  const file = await openSnapshot(path);
  await file.close();
  return { ram: file.header.blocks[0]?.size ?? 0, pageSize: file.header.pageSize };
}

interface RunFlags extends GuestFlags {
  readonly strategy: 'queue' | 'copy';
  /** Unset: `defaultRunPool(pageSize)`. */
  readonly pool?: number;
  readonly out: string;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly snapshots: number;
  readonly interval: number;
  readonly compress?: string;
  readonly endpoint?: string;
  readonly from?: string;
}

/** Most snapshots `--snapshots` takes. */
const MAX_SNAPSHOTS = 1000;

/** Adds `bgsnap run` to `program`. */
export function registerRun(program: Command): Command {
  const command = program
    .command('run')
    .summary('Snapshot a running guest: vCPU threads write while its memory is saved to a file')
    .description(
      'Create a guest memory filled with data, start vCPU threads writing to it, take a background snapshot to a file ' +
        'while they write, then print a report (duration, throughput, t0 pause, faults, writer stall, pool peak, file size, ' +
        'the cut) and verify the file. With --repeat N, N runs one after another, each replacing the file of the one before; ' +
        'the report is the last run\'s, with the median and range of the key figures over all of them. ' +
        'Ctrl-C cancels: the snapshot is abandoned, nothing is left under the file name, and the exit code is 130.',
    );
  return addGuestOptions(command)
    .addOption(new Option('--strategy <name>', 'queue or copy').argParser(parseChoice(['queue', 'copy'] as const)).default('copy'))
    .option('--pool <size>', `copy pool under --strategy copy, a whole number of pages (default: ${RUN_POOL_DEFAULT_TEXT})`, parseSize)
    .addOption(new Option('--out <file>', 'the snapshot file, or object (s3://bucket/key)').default('guest.bgsnap'))
    .addOption(compressOption())
    .addOption(endpointOption())
    .addOption(
      new Option('--snapshots <n>', `snapshots of the running guest, 1 to ${MAX_SNAPSHOTS}: one full, then incremental ones (only the pages written since the one before); files <out>.0.bgsnap, <out>.1.bgsnap, … (<out> without .bgsnap)`)
        .argParser(parseInteger(1, MAX_SNAPSHOTS))
        .default(1),
    )
    .addOption(new Option('--interval <ms>', 'milliseconds from the end of one snapshot to the start of the next, with --snapshots').argParser(parseNumber(0, 3_600_000)).default(1000))
    .option('--from <file>', 'start the guest from this snapshot with a live restore: the vCPUs run while its pages load (its size and page size are the guest\'s); the report adds the time to the first write and the load\'s faults')
    .option('--force', 'replace the snapshot file if it exists')
    .option('--json', 'print the report as JSON')
    .action((flags: RunFlags, command: Command) => run(flags, command));
}

async function run(flags: RunFlags, command: Command): Promise<void> {
  // Step 1: usage errors, then an existing file, before anything is started.
  const pool = flags.pool ?? defaultRunPool(flags.pageSize);
  checkGuestFlags(flags, flags.strategy === 'copy' ? [pool] : [], command);
  checkSnapshotOutput(flags.out, '--out <file>', command);
  if (flags.snapshots > 1 && flags.repeat > 1) usageError(command, "options '--snapshots <n>' and '--repeat <n>' cannot both be above 1");
  if (flags.from !== undefined) {
    for (const [key, flag] of [['ram', '--ram <size>'], ['pageSize', '--page-size <size>']] as const) {
      if (command.getOptionValueSource(key) === 'cli') usageError(command, `option '${flag}' cannot be used with '--from <file>': the snapshot gives the guest's geometry`);
    }
    if (flags.repeat > 1) usageError(command, "options '--from <file>' and '--repeat <n>' cannot be used together");
    // Every file written (with --snapshots, the chain's) must be another than the one read.
    if (chainFiles(flags.out, flags.snapshots).some((file) => resolve(file) === resolve(flags.from as string))) {
      usageError(command, "option '--out <file>' must name another file than '--from <file>' (with --snapshots, none of its <out>.N.bgsnap)");
    }
    flags = { ...flags, ...(await guestGeometry(flags.from)) };
  }
  const files = chainFiles(flags.out, flags.snapshots);
  for (const file of files) if (!flags.force && !isS3Url(file) && existsSync(file)) throw new OutputExistsError(file);
  if (flags.snapshots > 1) return runChain(flags, files);

  // Step 2: the runs, cancelled by Ctrl-C; each file checked through. A run after the first replaces the file of the one before.
  await withCancelSignals(async (signal) => {
    const earlier: RunFigures[] = [];
    for (let i = 0; i < flags.repeat; i++) {
      const result = await runGuest(
        {
          ...guestConfig(flags),
          strategy: flags.strategy,
          poolBytes: flags.strategy === 'queue' ? 0 : pool,
          out: flags.out,
          force: (flags.force ?? false) || i > 0,
          compression: compressionOf(flags.compress),
          endpoint: flags.endpoint,
          from: flags.from,
        },
        { signal, progress: { label: flags.repeat === 1 ? `snapshot (${flags.strategy})` : `[${i + 1}/${flags.repeat}] snapshot (${flags.strategy})` } },
      );
      const { location, size } = await snapshotSize(flags.out, flags.endpoint);
      const verified = await verify(location);
      if (signal.aborted) throw new CancelledError(signal.reason as NodeJS.Signals, `the snapshot ${JSON.stringify(flags.out)} is complete`);
      const report = runReport(result, size, verified);
      if (!verified.ok || i === flags.repeat - 1) {
        const full = withRepeats(report, earlier);
        print(flags.json ? JSON.stringify(full, null, 2) : `${runReportText(full)}\n${describeVerify(verified, size)}`);
        if (!verified.ok) throw new InvalidSnapshotError(flags.out, verified.problems);
      }
      earlier.push(runFigures(report));
    }
  });
}

/** `--snapshots N`: one run, a full snapshot and N − 1 incremental ones; the files checked as one chain. */
async function runChain(flags: RunFlags, files: readonly string[]): Promise<void> {
  const pool = flags.pool ?? defaultRunPool(flags.pageSize);
  await withCancelSignals(async (signal) => {
    const result = await runGuest(
      {
        ...guestConfig(flags),
        strategy: flags.strategy,
        poolBytes: flags.strategy === 'queue' ? 0 : pool,
        out: flags.out,
        force: flags.force ?? false,
        snapshots: flags.snapshots,
        intervalMs: flags.interval,
        compression: compressionOf(flags.compress),
        endpoint: flags.endpoint,
        from: flags.from,
      },
      { signal, progress: {} },
    );
    const written = await Promise.all(files.map((file) => snapshotSize(file, flags.endpoint)));
    const sizes = written.map((w) => w.size);
    const verified = await verify(written.map((w) => w.location));
    if (signal.aborted) throw new CancelledError(signal.reason as NodeJS.Signals, `the chain's ${files.length} snapshots are complete`);
    const first = verified.links[0] as VerifyReport;
    const links = chainLinks(result, sizes, verified.links.map((r) => r.ok));
    const report = { ...runReport(result, sizes[0] ?? 0, first), chain: links, chainCheck: chainCheckJson(verified) };
    print(flags.json ? JSON.stringify(report, null, 2) : `${runReportText(report)}\n\n${chainText(links)}\n${describeVerify(first, sizes[0] ?? 0)}\n${describeChainVerify(verified)}`);
    throwIfChainBad(verified);
  });
}
