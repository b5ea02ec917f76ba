import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { formatBytes, formatDuration } from '../../sim/format';
import { MAX_WRITERS } from '../../threads/layout';
import { CancelledError, OutputExistsError } from '../errors';
import { writeFileInPlace } from '../files';
import { print } from '../output';
import { parseList, parseSize } from '../parse';
import { compareHtml, compareTable } from '../report';
import { throughputOf } from '../report/compareTable';
import type { CompareRun } from '../report/types';
import { compareRun, contenderName, contenders, type ComparedRun, type Contender } from '../run/compareRuns';
import { addGuestOptions, checkFilePath, defaultPool, checkGuestFlags, guestConfig, POOL_ONE_MIB_TEXT, type GuestFlags } from '../run/flags';
import { capacityOf, createGuest, runBytesOf, type Guest } from '../run/guest';
import { formatCount } from '../run/report';
import { figuresSpread, type FiguresSpread, type RunFigures } from '../run/spread';
import { SAMPLE_LIMIT } from '../run/vcpus';
import { withCancelSignals } from '../signals';
import { usageError } from '../usage';

interface CompareFlags extends GuestFlags {
  /** Unset: 0, `defaultPool(pageSize)` and 16 MiB. */
  readonly pool?: number[];
  readonly html?: string;
  readonly force?: boolean;
  readonly dir: string;
  readonly json?: boolean;
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
        'and removed after its run. With --repeat N, each configuration runs N times (one guest memory per round): ' +
        'the table gives the median and range of the stalls, duration, throughput and pool peak, and the page plots, ' +
        'for each configuration, the run with the median stall p99. Ctrl-C cancels the run under way and exits 130.',
    );
  return addGuestOptions(command)
    .option('--pool <sizes>', `copy pool sizes, a comma list; queue runs once, without a pool (default: 0,1MiB,16MiB, where ${POOL_ONE_MIB_TEXT})`, parseList(parseSize))
    .option('--html <file>', 'write an HTML report with the plots')
    .option('--force', 'replace the --html file if it exists')
    .option('--json', 'print the comparison as JSON')
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
  } catch {
    return usageError(command, `option '--dir <dir>': cannot make a folder in ${JSON.stringify(flags.dir)}; expected a folder that exists and can be written to`);
  }

  // Step 2: the runs, round after round (a guest memory each), one after another on it, each with vCPU
  // threads of its own; Ctrl-C cancels the one running.
  const rounds: ComparedRun[][] = list.map(() => []);
  const started = performance.now();
  try {
    await withCancelSignals(async (signal) => {
      for (let round = 0; round < flags.repeat; round++) {
        const guest: Guest = createGuest({ ramBytes: flags.ram, pageSize: flags.pageSize, poolBytes: Math.max(0, ...pools) });
        for (const [i, contender] of list.entries()) {
          const n = round * list.length + i + 1;
          const label = `[${n}/${list.length * flags.repeat}] ${contenderName(contender)}`;
          const out = join(dir, `run-${n}.bgsnap`);
          const result = await compareRun({ ...guestConfig(flags), out, force: false }, contender, { signal, guest, progress: { label } });
          rmSync(out, { force: true });
          (rounds[i] as ComparedRun[]).push(result);
        }
      }
    });
  } catch (error) {
    // A cancel says what the comparison, not the run under way, left behind.
    if (!(error instanceof CancelledError)) throw error;
    const done = rounds.reduce((n, r) => n + r.length, 0);
    const page = flags.html === undefined ? '' : `; nothing was written to ${JSON.stringify(flags.html)}`;
    throw new CancelledError(error.signal, `${done} of ${list.length * flags.repeat} runs done, their snapshot files removed${page}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Step 3: per configuration, the run with the median p99 stands for it, with the spread of all of its runs.
  const wallMs = performance.now() - started;
  const chosen = rounds.map(medianRun);
  const runs = chosen.map((r) => r.run);
  const spreads = flags.repeat > 1 ? rounds.map((rs) => figuresSpread(rs.map((r) => compareFigures(r.run)))) : undefined;

  // Step 4: the table (or JSON) first, so a report that fails to write loses none of it; then the page.
  if (flags.json) print(JSON.stringify(compareJson(flags, list, rounds, chosen, wallMs), null, 2));
  else print(compareTable(runs, spreads));
  if (flags.html !== undefined) {
    writeFileInPlace(flags.html, compareHtml(runs, { subtitle: subtitle(flags, chosen), spreads, repeat: flags.repeat }), flags.force ?? false);
  }
  if (!flags.json) {
    const total = list.length * flags.repeat;
    print(`${total} runs in ${formatDuration(wallMs)}${flags.html !== undefined ? `; wrote ${flags.html}` : ''}`);
  }
}

/** A comparison run's key figures: its stall percentiles are its vCPUs' stalls together. */
function compareFigures(run: CompareRun): RunFigures {
  const { stats } = run;
  return {
    durationMs: stats.durationMs,
    throughputBytesPerSecond: throughputOf(run),
    stallP50Ms: stats.stall.p50,
    stallP99Ms: stats.stall.p99,
    stallMaxMs: stats.stall.max,
    poolPeakBytes: stats.pool.peakBytes,
  };
}

/** Of a configuration's runs, the one with the median stall p99 (of an even count, the lower middle one). */
function medianRun(runs: readonly ComparedRun[]): ComparedRun {
  const sorted = [...runs].sort((a, b) => a.run.stats.stall.p99 - b.run.stats.stall.p99);
  return sorted[(sorted.length - 1) >> 1] as ComparedRun;
}

/** What `compare --json` prints: sizes in bytes, times in milliseconds, rates per second. */
function compareJson(flags: CompareFlags, list: readonly Contender[], rounds: readonly ComparedRun[][], chosen: readonly ComparedRun[], wallMs: number) {
  return {
    ramBytes: flags.ram,
    pageSize: flags.pageSize,
    vcpus: flags.vcpus,
    workload: flags.workload,
    writeRate: flags.writeRate,
    seed: flags.seed,
    storage: flags.storage,
    capacity: capacityOf(flags),
    runBytes: Math.floor(runBytesOf(flags) / flags.pageSize) * flags.pageSize,
    faultRunBytes: Math.floor((flags.faultRunBytes ?? flags.pageSize) / flags.pageSize) * flags.pageSize,
    repeat: flags.repeat,
    runs: list.map((contender, i) => {
      const { run } = chosen[i] as ComparedRun;
      const { stats } = run;
      const all = (rounds[i] as ComparedRun[]).map((r) => compareFigures(r.run));
      const spread: FiguresSpread = figuresSpread(all);
      return {
        label: contenderName(contender),
        strategy: contender.strategy,
        poolBytes: contender.poolBytes,
        faults: stats.faults,
        saved: stats.saved,
        durationMs: stats.durationMs,
        throughputBytesPerSecond: throughputOf(run),
        writerStall: { count: stats.stall.count, p50: stats.stall.p50, p99: stats.stall.p99, max: stats.stall.max },
        poolPeakBytes: stats.pool.peakBytes,
        bytesWritten: stats.bytesWritten,
        spread,
        repeats: all,
      };
    }),
    wallMs,
    html: flags.html ?? null,
  };
}

/** What was compared, and where the stalls come from. */
function subtitle(flags: CompareFlags, runs: readonly ComparedRun[]): string {
  const rate = flags.writeRate === 'max' ? 'full speed' : `${formatCount(flags.writeRate)} writes/s`;
  const timed = runs.reduce((n, r) => n + r.timed, 0);
  const kept = runs.reduce((n, r) => n + r.kept, 0);
  const sample = kept < timed ? `; past ${SAMPLE_LIMIT} per vCPU a uniform sample of them, ${kept} of ${timed}` : '';
  const repeats = flags.repeat > 1 ? ` Each configuration ran ${flags.repeat} times; the plots show, for each, the run with the median stall p99, and the table the median and range of all of them.` : '';
  return (
    `A ${formatBytes(flags.ram)} guest in ${formatBytes(flags.pageSize)} pages; ${flags.vcpus} vCPU threads, ${flags.workload} writes at ${rate} each ` +
    `(seed ${flags.seed}); ${flags.storage === 'none' ? 'unthrottled' : flags.storage} storage; real time on this machine. ` +
    `Writer stalls are the vCPUs' own: each fault's stall timed by its vCPU around the write that faulted${sample}.${repeats}`
  );
}
