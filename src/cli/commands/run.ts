import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { verify } from '../../format/verify';
import { CancelledError, InvalidSnapshotError, OutputExistsError } from '../errors';
import { print } from '../output';
import { parseChoice, parseSize } from '../parse';
import { addGuestOptions, checkFilePath, checkGuestFlags, defaultRunPool, guestConfig, RUN_POOL_DEFAULT_TEXT, type GuestFlags } from '../run/flags';
import { runGuest } from '../run/guest';
import { runFigures, runReport, runReportText, withRepeats } from '../run/report';
import type { RunFigures } from '../run/spread';
import { withCancelSignals } from '../signals';
import { describeVerify } from './verify';

interface RunFlags extends GuestFlags {
  readonly strategy: 'queue' | 'copy';
  /** Unset: `defaultRunPool(pageSize)`. */
  readonly pool?: number;
  readonly out: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

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
    .addOption(new Option('--out <file>', 'the snapshot file').default('guest.bgsnap'))
    .option('--force', 'replace the snapshot file if it exists')
    .option('--json', 'print the report as JSON')
    .action((flags: RunFlags, command: Command) => run(flags, command));
}

async function run(flags: RunFlags, command: Command): Promise<void> {
  // Step 1: usage errors, then an existing file, before anything is started.
  const pool = flags.pool ?? defaultRunPool(flags.pageSize);
  checkGuestFlags(flags, flags.strategy === 'copy' ? [pool] : [], command);
  checkFilePath(flags.out, '--out <file>', command);
  if (!flags.force && existsSync(flags.out)) throw new OutputExistsError(flags.out);

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
        },
        { signal, progress: { label: flags.repeat === 1 ? `snapshot (${flags.strategy})` : `[${i + 1}/${flags.repeat}] snapshot (${flags.strategy})` } },
      );
      const { size } = await stat(flags.out);
      const verified = await verify(flags.out);
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
