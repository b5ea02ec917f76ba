import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { OptionError } from '../../errors';
import { storageProfiles, type StorageProfileName } from '../../storage/profiles';
import type { StrategyName } from '../../strategies';
import { formatBytes, formatDuration, formatShare, formatTable } from '../../sim/format';
import { GeometryMemory } from '../../sim/GeometryMemory';
import { sweepHtml } from '../../sim/htmlReport';
import { simulate } from '../../sim/simulate';
import { sweep } from '../../sim/sweep';
import { resultRows, sweepRows } from '../../sim/tables';
import type { WorkloadOptions } from '../../sim/workload';
import { OutputExistsError } from '../errors';
import { checkFilePath, writeFileInPlace } from '../files';
import { print } from '../output';
import { parseChoice, parseInteger, parseList, parseNumber, parseSize } from '../parse';
import { MAX_VCPUS, POOL_DEFAULT_TEXT, defaultPool, parseWriteRate } from '../run/flags';
import { formatCount } from '../run/report';
import { HOT_FRACTION, HOT_SHARE } from '../run/workload';
import { usageError } from '../usage';

/** The workloads of `simulate --workload`: `run`'s `random` and `hotset`, and `zipf`. */
export const SIM_WORKLOADS = ['random', 'hotset', 'zipf'] as const;
export type SimWorkloadName = (typeof SIM_WORKLOADS)[number];

/** The options as commander parses them. */
interface SimulateFlags {
  readonly ram: number;
  /** The old name of `--ram`, kept as a hidden alias. */
  readonly memory?: number;
  readonly pageSize: number;
  readonly strategy: StrategyName[];
  readonly pool?: number[];
  readonly storage: StorageProfileName[];
  readonly capacity?: number;
  readonly runBytes?: number;
  readonly faultRunBytes?: number;
  readonly turnBytes?: number;
  readonly vcpus: number;
  readonly writeRate: number | 'max';
  readonly workload: SimWorkloadName;
  readonly zipfExponent?: number;
  readonly seed: number;
  readonly sweep?: boolean;
  readonly html?: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

/** Library option names, as `OptionError` reports them (list indices dropped), and the flags that set them. */
const FLAGS: Record<string, string> = {
  pageSize: '--page-size <size>',
  'blocks.size': '--ram <size>',
  poolPages: '--pool <sizes>',
  poolBytes: '--pool <sizes>',
  strategies: '--strategy <names>',
  storage: '--storage <names>',
  storages: '--storage <names>',
  runBytes: '--run-bytes <size>',
  faultRunBytes: '--fault-run-bytes <size>',
  turnBytes: '--turn-bytes <size>',
  capacity: '--capacity <n>',
  'workload.writers': '--vcpus <n>',
  'workload.writesPerSecond': '--write-rate <n>',
  'workload.zipfExponent': '--zipf-exponent <s>',
  seed: '--seed <n>',
};

const STORAGES = Object.keys(storageProfiles) as StorageProfileName[];
const STRATEGIES: readonly StrategyName[] = ['queue', 'copy'];

/** Adds `bgsnap simulate` to `program`. */
export function registerSimulate(program: Command): Command {
  return program
    .command('simulate')
    .summary('Run the snapshot pipeline in virtual time on a simulated storage device')
    .description(
      'Run the snapshot pipeline in virtual time over a memory without bytes, a simulated storage device ' +
        'and a random write workload; print its stats (or, with --sweep, a table over every combination). ' +
        'The flags are those of `bgsnap run` where they mean the same; storage is always a simulated profile (no none).',
    )
    .addOption(new Option('--ram <size>', 'memory size (one block), e.g. 1GiB, 64GiB').argParser(parseSize).default(1024 ** 3, '1GiB'))
    .addOption(new Option('--memory <size>', 'the old name of --ram').argParser(parseSize).hideHelp())
    .addOption(new Option('--page-size <size>', 'page size, a power of two from 512 to 2MiB').argParser(parseSize).default(4096, '4KiB'))
    .addOption(new Option('--strategy <names>', 'queue or copy; a comma list with --sweep').argParser(parseList(parseChoice(STRATEGIES))).default(['copy'], 'copy'))
    .option('--pool <sizes>', `copy pool, a whole number of pages; a comma list with --sweep (default: ${POOL_DEFAULT_TEXT})`, parseList(parseSize))
    .addOption(new Option('--storage <names>', `${STORAGES.join(', ')}; a comma list with --sweep`).argParser(parseList(parseChoice(STORAGES))).default(['ssd'], 'ssd'))
    .option('--capacity <n>', 'snapshot writes in flight (default: the storage queue depth)', parseInteger(1))
    .option('--run-bytes <size>', 'most bytes in one bulk write, rounded down to whole pages (default: 256KiB, or one page if pages are larger)', parseSize)
    .option('--fault-run-bytes <size>', 'most bytes in one fault write: the page and its unsaved neighbours (default: one page)', parseSize)
    .option('--turn-bytes <size>', 'bytes per turn of the save loop (default: 4MiB)', parseSize)
    .addOption(new Option('--vcpus <n>', `writers (simulated vCPUs), 1 to ${MAX_VCPUS}`).argParser(parseInteger(1, MAX_VCPUS)).default(2))
    .addOption(
      new Option('--write-rate <n>', 'writes per second per vCPU while not blocked (max is refused: it has no end in virtual time)').argParser(parseWriteRate).default(1000),
    )
    .addOption(
      new Option(
        '--workload <name>',
        `random: any page; hotset: ${formatShare(HOT_SHARE)} of writes to 1/${1 / HOT_FRACTION} of memory (its pages scattered); zipf: page k of memory taken with probability ∝ 1/k^s`,
      )
        .argParser(parseChoice(SIM_WORKLOADS))
        .default('random'),
    )
    .option('--zipf-exponent <s>', 'with --workload zipf: the exponent s, above 0 (default: 1)', parseNumber(0, Infinity, true))
    .addOption(new Option('--seed <n>', 'random seed, 0 to 4294967295').argParser(parseInteger(0, 2 ** 32 - 1)).default(1))
    .option('--sweep', 'run every storage × strategy × pool combination of the lists')
    .option('--html <file>', 'with --sweep: write an HTML report with a plot of stall p99 against host memory')
    .option('--force', 'replace the --html file if it exists')
    .option('--json', 'print the result as JSON')
    .action((flags: SimulateFlags, command: Command) => run(flags, command));
}

function run(flags: SimulateFlags, command: Command): void {
  // Step 1: the combinations of flags that make no sense, and an --html file that cannot be written.
  if (flags.memory !== undefined && command.getOptionValueSource('ram') === 'cli') {
    usageError(command, "option '--memory <size>' is the old name of --ram: pass one of them");
  }
  const ram = flags.memory ?? flags.ram;
  if (!flags.sweep) {
    for (const [flag, list] of [['--strategy', flags.strategy], ['--pool', flags.pool], ['--storage', flags.storage]] as const) {
      if (list !== undefined && list.length > 1) usageError(command, `option '${flag}' lists ${list.length} values: pass --sweep to run each`);
    }
    if (flags.html !== undefined) usageError(command, "option '--html <file>' needs --sweep");
  }
  if (flags.writeRate === 'max') {
    usageError(command, "option '--write-rate <n>': max has no end in virtual time; expected writes per second above 0");
  }
  if (flags.zipfExponent !== undefined && flags.workload !== 'zipf') {
    usageError(command, "option '--zipf-exponent <s>' needs --workload zipf");
  }
  if (flags.html !== undefined) {
    checkFilePath(flags.html, '--html <file>', command);
    if (!flags.force && existsSync(flags.html)) throw new OutputExistsError(flags.html);
  }
  const workload: WorkloadOptions = {
    writers: flags.vcpus,
    writesPerSecond: flags.writeRate,
    ...(flags.workload === 'hotset' ? { hotSetBytes: Math.floor((ram * HOT_FRACTION) / flags.pageSize) * flags.pageSize, hotShare: HOT_SHARE } : {}),
    ...(flags.workload === 'zipf' ? { distribution: 'zipf' as const, zipfExponent: flags.zipfExponent } : {}),
  };
  const common = {
    capacity: flags.capacity,
    runBytes: flags.runBytes,
    faultRunBytes: flags.faultRunBytes,
    turnBytes: flags.turnBytes,
    workload,
    seed: flags.seed,
  };
  const pools = flags.pool ?? [defaultPool(flags.pageSize)];

  // Step 2: run. Bad values the parsers let through (a size that is not a whole number
  // of pages, a memory too large) are usage errors, named by their flag.
  try {
    const memory = new GeometryMemory({ pageSize: flags.pageSize, blocks: [{ name: 'ram', size: ram }] });
    const started = performance.now();
    if (!flags.sweep) {
      const result = simulate(memory, {
        ...common,
        strategy: flags.strategy[0],
        storage: flags.storage[0],
        poolPages: pagesOf(pools[0] as number, memory.pageSize),
      });
      const wallMs = performance.now() - started;
      if (flags.json) return print(JSON.stringify({ ...result, wallMs }, null, 2));
      return print(formatTable([...resultRows(result), ['wall time', formatDuration(wallMs)]], 'text'));
    }
    const rows = sweep(memory, {
      ...common,
      strategies: flags.strategy,
      storages: flags.storage,
      poolBytes: pools,
      onRow: (row, i, total) =>
        process.stderr.write(`[${i + 1}/${total}] ${row.storage} ${row.strategy}${row.strategy === 'queue' ? '' : ` pool ${formatBytes(row.poolBytes)}`}\n`),
    });
    const wallMs = performance.now() - started;
    // The results first: a report that fails to write loses none of them.
    print(flags.json ? JSON.stringify({ rows, wallMs }, null, 2) : formatTable(sweepRows(rows)));
    if (flags.html !== undefined) {
      const subtitle = `${formatBytes(ram)} memory in ${formatBytes(flags.pageSize)} pages; workload ${describeWorkload(flags, rows[0]?.result.workload)}; seed ${flags.seed}.`;
      writeFileInPlace(flags.html, sweepHtml(rows, { subtitle }), flags.force ?? false);
    }
    if (!flags.json) print(`${rows.length} runs in ${formatDuration(wallMs)} wall time${flags.html !== undefined ? `; wrote ${flags.html}` : ''}`);
  } catch (error) {
    if (error instanceof OptionError) {
      const option = error.option.replace(/\[\d+\]/g, '');
      usageError(command, `option '${FLAGS[option] ?? option}': expected ${error.expected}, got ${String(error.received)}`);
    }
    throw error;
  }
}

/** Pool bytes as pages; a usage error unless whole pages. */
function pagesOf(bytes: number, pageSize: number): number {
  if (bytes % pageSize !== 0) throw new OptionError('poolPages', `a multiple of the page size (${pageSize}) in bytes`, bytes);
  return bytes / pageSize;
}

function describeWorkload(flags: SimulateFlags, w: WorkloadOptions | undefined): string {
  if (w === undefined) return flags.workload;
  const rate = `${w.writers} vCPUs × ${formatCount(w.writesPerSecond ?? 0)} writes/s`;
  if (flags.workload === 'hotset') return `${rate}, hotset: ${formatShare(w.hotShare ?? 0)} of writes to ${formatBytes(w.hotSetBytes ?? 0)}`;
  if (flags.workload === 'zipf') return `${rate}, zipf with exponent ${formatCount(w.zipfExponent ?? 1)}`;
  return `${rate}, random`;
}
