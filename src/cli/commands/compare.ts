import { existsSync, linkSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { formatBytes, formatDuration } from '../../sim/format';
import { OutputExistsError } from '../errors';
import { print } from '../output';
import { parseList, parseSize } from '../parse';
import { compareHtml, compareTable } from '../report';
import { MAX_WRITERS } from '../../threads/layout';
import { compareRun, contenderName, contenders, type ComparedRun } from '../run/compareRuns';
import { createGuest } from '../run/guest';
import { SAMPLE_LIMIT } from '../run/vcpus';
import { addGuestOptions, checkFilePath, defaultPool, checkGuestFlags, guestConfig, type GuestFlags } from '../run/flags';
import { withCancelSignals } from '../signals';
import { usageError } from '../usage';

interface CompareFlags extends GuestFlags {
  /** Unset: 0, `defaultPool(pageSize)` and 16 MiB. */
  readonly pool?: number[];
  readonly html?: string;
  readonly force?: boolean;
  readonly dir: string;
}

/** Adds `bgsnap compare` to `program`. */
export function registerCompare(program: Command): Command {
  const command = program
    .command('compare')
    .summary('Run the same guest under queue and under copy at several pool sizes; compare writer stalls and memory')
    .description(
      'Run the guest of `bgsnap run` once under queue and once under copy per pool size, on the same workload and storage, ' +
        'and print a table: faults, writer stall, duration, throughput, pool and pool peak, pages saved by bulk, fault and copy. ' +
        'With --html, also a page with plots of the writer stall distribution, pool memory over time and pages saved over time. ' +
        'The runs share one guest memory, each with vCPU threads of its own; each snapshot file is written to a temporary folder ' +
        'and removed after its run.',
    );
  return addGuestOptions(command)
    .option('--pool <sizes>', 'copy pool sizes, a comma list (queue runs once, without a pool) (default: 0,1MiB,16MiB; 1MiB is one page if pages are larger)', parseList(parseSize))
    .option('--html <file>', 'write an HTML report with the plots')
    .option('--force', 'replace the --html file if it exists')
    .addOption(new Option('--dir <dir>', 'where the snapshot files are written while they run').default(tmpdir(), 'the system temporary folder'))
    .action((flags: CompareFlags, command: Command) => run(flags, command));
}

async function run(flags: CompareFlags, command: Command): Promise<void> {
  // Step 1: usage errors; a report that could not be written fails now, not after the runs.
  const pools = flags.pool ?? [0, defaultPool(flags.pageSize), 16 * 1024 ** 2];
  checkGuestFlags(flags, pools, command);
  if (flags.html !== undefined) {
    checkFilePath(flags.html, '--html <file>', command);
    if (!flags.force && existsSync(flags.html)) throw new OutputExistsError(flags.html);
  }
  const list = contenders(pools);
  if (flags.vcpus * list.length > MAX_WRITERS) {
    usageError(command, `option '--vcpus <n>': ${list.length} runs of ${flags.vcpus} vCPUs on one guest need ${flags.vcpus * list.length} writer threads; it takes at most ${MAX_WRITERS}`);
  }
  let dir: string;
  try {
    dir = mkdtempSync(join(flags.dir, 'bgsnap-compare-'));
  } catch (error) {
    return usageError(command, `option '--dir <dir>': cannot make a folder in ${JSON.stringify(flags.dir)} (${error instanceof Error ? error.message : String(error)})`);
  }

  // Step 2: the runs, one after another on one guest, each with vCPU threads of its own; Ctrl-C cancels the one running.
  const runs: ComparedRun[] = [];
  const started = performance.now();
  try {
    const guest = createGuest({ ramBytes: flags.ram, pageSize: flags.pageSize, poolBytes: Math.max(0, ...pools) });
    await withCancelSignals(async (signal) => {
      for (const [i, contender] of list.entries()) {
        const label = `[${i + 1}/${list.length}] ${contenderName(contender)}`;
        const result = await compareRun(
          { ...guestConfig(flags), out: join(dir, `run-${i + 1}.bgsnap`), force: false },
          contender,
          { signal, guest, progress: { label } },
        );
        rmSync(join(dir, `run-${i + 1}.bgsnap`), { force: true });
        runs.push(result);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Step 3: the table first, so a report that fails to write loses none of it; then the page.
  const wallMs = performance.now() - started;
  print(compareTable(runs.map((r) => r.run)));
  if (flags.html !== undefined) writePage(flags.html, compareHtml(runs.map((r) => r.run), { subtitle: subtitle(flags, runs) }), flags.force ?? false);
  print(`${runs.length} runs in ${formatDuration(wallMs)}${flags.html !== undefined ? `; wrote ${flags.html}` : ''}`);
}

/**
 * Writes `html` to `path` through a temporary file in the same folder, given
 * its name only when complete: renamed over a file there with `force`, else
 * linked, so that a file that appeared meanwhile is not replaced (checked, then renamed, where
 * the file system has no hard links).
 * @throws OutputExistsError when a file is at `path` and `force` is off; nothing was written to it.
 */
function writePage(path: string, html: string, force: boolean): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, html, { flag: 'wx' });
    if (force) return renameSync(temp, path);
    try {
      linkSync(temp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new OutputExistsError(path);
      // No hard links here: check, then rename.
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code ?? '')) throw error;
      if (existsSync(path)) throw new OutputExistsError(path);
      renameSync(temp, path);
    }
  } finally {
    rmSync(temp, { force: true });
  }
}

/** What was compared, and where the stalls come from. */
function subtitle(flags: CompareFlags, runs: readonly ComparedRun[]): string {
  const rate = flags.writeRate === 'max' ? 'full speed' : `${flags.writeRate} writes/s`;
  const timed = runs.reduce((n, r) => n + r.timed, 0);
  const kept = runs.reduce((n, r) => n + r.kept, 0);
  const sample = kept < timed ? `; past ${SAMPLE_LIMIT} per vCPU a uniform sample of them, ${kept} of ${timed}` : '';
  return (
    `A ${formatBytes(flags.ram)} guest in ${formatBytes(flags.pageSize)} pages; ${flags.vcpus} vCPU threads, ${flags.workload} writes at ${rate} each ` +
    `(seed ${flags.seed}); ${flags.storage === 'none' ? 'unthrottled' : flags.storage} storage; real time on this machine. ` +
    `Writer stalls are the vCPUs' own: each fault's stall timed by its vCPU around the write that faulted${sample}.`
  );
}
