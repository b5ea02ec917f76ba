import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { Option, type Command } from 'commander';
import { OptionError } from '../../errors';
import { storageProfiles, type StorageProfileName } from '../../storage/profiles';
import type { StrategyName } from '../../strategies';
import { formatBytes, formatShare, formatTable } from '../../sim/format';
import { GeometryMemory } from '../../sim/GeometryMemory';
import { sweepHtml } from '../../sim/htmlReport';
import { simulate } from '../../sim/simulate';
import { sweep } from '../../sim/sweep';
import { resultRows, sweepRows } from '../../sim/tables';
import type { PageDistribution, WorkloadOptions } from '../../sim/workload';
import { parseChoice, parseInteger, parseList, parseNumber, parseSize } from '../parse';
import { usageError } from '../usage';

/** The options as commander parses them. */
interface SimulateFlags {
  readonly memory: number;
  readonly pageSize: number;
  readonly strategy: StrategyName[];
  readonly pool?: number[];
  readonly storage: StorageProfileName[];
  readonly capacity?: number;
  readonly runBytes?: number;
  readonly faultRunBytes?: number;
  readonly turnBytes?: number;
  readonly writers?: number;
  readonly rate?: number;
  readonly hot?: number;
  readonly hotShare?: number;
  readonly distribution?: PageDistribution;
  readonly zipfExponent?: number;
  readonly seed: number;
  readonly sweep?: boolean;
  readonly html?: string;
  readonly json?: boolean;
}

/** Library option names, as `OptionError` reports them (list indices dropped), and the flags that set them. */
const FLAGS: Record<string, string> = {
  pageSize: '--page-size',
  'blocks.size': '--memory',
  poolPages: '--pool',
  poolBytes: '--pool',
  strategies: '--strategy',
  storage: '--storage',
  storages: '--storage',
  runBytes: '--run-bytes',
  faultRunBytes: '--fault-run-bytes',
  turnBytes: '--turn-bytes',
  capacity: '--capacity',
  'workload.writers': '--writers',
  'workload.writesPerSecond': '--rate',
  'workload.hotSetBytes': '--hot',
  'workload.hotShare': '--hot-share',
  'workload.distribution': '--distribution',
  'workload.zipfExponent': '--zipf-exponent',
  seed: '--seed',
};

const STORAGES = Object.keys(storageProfiles) as StorageProfileName[];
const STRATEGIES: readonly StrategyName[] = ['queue', 'copy'];

/** Adds `bgsnap simulate` to `program`. */
export function registerSimulate(program: Command): Command {
  return program
    .command('simulate')
    .description(
      'Run the snapshot pipeline in virtual time over a memory without bytes, a simulated storage device ' +
        'and a random write workload; print its stats (or, with --sweep, a table over every combination).',
    )
    .addOption(new Option('--memory <size>', 'memory size (one block), e.g. 1GiB, 64GiB').argParser(parseSize).default(1024 ** 3, '1GiB'))
    .addOption(new Option('--page-size <size>', 'page size').argParser(parseSize).default(4096, '4KiB'))
    .addOption(new Option('--strategy <names>', 'queue or copy; a comma list with --sweep').argParser(parseList(parseChoice(STRATEGIES))).default(['copy'], 'copy'))
    .option('--pool <sizes>', 'copy pool size, e.g. 16MiB; a comma list with --sweep (default: 256 pages)', parseList(parseSize))
    .addOption(new Option('--storage <names>', `${STORAGES.join(', ')}; a comma list with --sweep`).argParser(parseList(parseChoice(STORAGES))).default(['ssd'], 'ssd'))
    .option('--capacity <n>', 'writes in flight (default: the storage queue depth)', parseInteger(1))
    .option('--run-bytes <size>', 'most bytes in one bulk write (default: 256KiB)', parseSize)
    .option('--fault-run-bytes <size>', 'most bytes in one fault write: the page and its unsaved neighbours (default: one page)', parseSize)
    .option('--turn-bytes <size>', 'bytes per turn of the save loop (default: 4MiB)', parseSize)
    .option('--writers <n>', 'writers (default: 2)', parseInteger(0))
    .option('--rate <n>', 'writes per second of each writer while not blocked (default: 1000)', parseNumber(0, Infinity, true))
    .option('--hot <size>', 'hot-set size (default: 0, no hot set)', parseSize)
    .option('--hot-share <share>', 'share of writes to the hot set, 0 to 1 (default: 0.9)', parseNumber(0, 1))
    .option('--distribution <name>', 'page choice within a set: uniform or zipf (default: uniform)', parseChoice(['uniform', 'zipf'] as const))
    .option('--zipf-exponent <s>', 'zipf exponent, above 0 (default: 1)', parseNumber(0, Infinity, true))
    .addOption(new Option('--seed <n>', 'random seed, 0 to 4294967295').argParser(parseInteger(0)).default(1))
    .option('--sweep', 'run every storage × strategy × pool combination of the lists')
    .option('--html <file>', 'with --sweep: write an HTML report with a plot of stall p99 against host memory')
    .option('--json', 'print the result as JSON')
    .action((flags: SimulateFlags, command: Command) => run(flags, command));
}

function run(flags: SimulateFlags, command: Command): void {
  // Step 1: the combinations of flags that make no sense.
  if (!flags.sweep) {
    for (const [flag, list] of [['--strategy', flags.strategy], ['--pool', flags.pool], ['--storage', flags.storage]] as const) {
      if (list !== undefined && list.length > 1) usageError(command, `option '${flag}' lists ${list.length} values: pass --sweep to run each`);
    }
    if (flags.html !== undefined) usageError(command, "option '--html <file>' needs --sweep");
  }
  if (flags.html !== undefined && isDirectory(flags.html)) {
    usageError(command, `option '--html <file>': ${JSON.stringify(flags.html)} is a directory; name a file`);
  }
  if (flags.hotShare !== undefined && !(flags.hot !== undefined && flags.hot > 0)) {
    usageError(command, "option '--hot-share <share>' needs --hot <size> (a hot set above 0 bytes)");
  }
  if (flags.zipfExponent !== undefined && flags.distribution !== 'zipf') {
    usageError(command, "option '--zipf-exponent <s>' needs --distribution zipf");
  }
  const workload: WorkloadOptions = {
    writers: flags.writers,
    writesPerSecond: flags.rate,
    hotSetBytes: flags.hot,
    hotShare: flags.hotShare,
    distribution: flags.distribution,
    zipfExponent: flags.zipfExponent,
  };
  const common = {
    capacity: flags.capacity,
    runBytes: flags.runBytes,
    faultRunBytes: flags.faultRunBytes,
    turnBytes: flags.turnBytes,
    workload,
    seed: flags.seed,
  };

  // Step 2: run. Bad values the parsers let through (a size that is not a whole number
  // of pages, a hot set larger than the memory) are usage errors, named by their flag.
  try {
    const memory = new GeometryMemory({ pageSize: flags.pageSize, blocks: [{ name: 'ram', size: flags.memory }] });
    const started = performance.now();
    if (!flags.sweep) {
      const [pool] = flags.pool ?? [];
      const result = simulate(memory, {
        ...common,
        strategy: flags.strategy[0],
        storage: flags.storage[0],
        poolPages: pool === undefined ? undefined : pagesOf(pool, memory.pageSize),
      });
      const wallMs = performance.now() - started;
      if (flags.json) return print(JSON.stringify({ ...result, wallMs }, null, 2));
      return print(formatTable([...resultRows(result), ['wall time', `${(wallMs / 1000).toFixed(2)} s`]], 'text'));
    }
    // The report's folder is checked first: a bad path fails now, not after the runs.
    if (flags.html !== undefined) accessSync(dirname(resolve(flags.html)), constants.W_OK);
    const rows = sweep(memory, {
      ...common,
      strategies: flags.strategy,
      storages: flags.storage,
      poolBytes: flags.pool,
      onRow: (row, i, total) =>
        process.stderr.write(`[${i + 1}/${total}] ${row.storage} ${row.strategy}${row.strategy === 'queue' ? '' : ` pool ${formatBytes(row.poolBytes)}`}\n`),
    });
    const wallMs = performance.now() - started;
    // The results first: a report that fails to write loses none of them.
    print(flags.json ? JSON.stringify({ rows, wallMs }, null, 2) : formatTable(sweepRows(rows)));
    if (flags.html !== undefined) {
      const subtitle =
        `${formatBytes(flags.memory)} memory in ${formatBytes(flags.pageSize)} pages; ` +
        `workload ${describeWorkload(rows[0]?.result.workload)}; seed ${flags.seed}.`;
      writeFileSync(flags.html, sweepHtml(rows, { subtitle }));
    }
    if (!flags.json) print(`${rows.length} runs in ${(wallMs / 1000).toFixed(2)} s wall time${flags.html !== undefined ? `; wrote ${flags.html}` : ''}`);
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

function describeWorkload(w: WorkloadOptions | undefined): string {
  if (w === undefined) return '';
  const hot = (w.hotSetBytes ?? 0) > 0 ? `, hot set ${formatBytes(w.hotSetBytes ?? 0)} taking ${formatShare(w.hotShare ?? 0)}` : '';
  return `${w.writers} writers × ${w.writesPerSecond} writes/s, ${w.distribution}${hot}`;
}

/** Whether `path` names a directory: one that exists, or any path ending in a separator. */
function isDirectory(path: string): boolean {
  if (path.endsWith('/') || path.endsWith(sep)) return true;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
