import { OptionError } from '../errors';
import { defaultPoolPages } from '../pipeline/options';
import { resolveProfile, type StorageProfileName } from '../storage/profiles';
import { resolveStrategy, type StrategyName } from '../strategies';
import type { GeometryMemory } from './GeometryMemory';
import { simulate, type SimulateOptions, type SimulationResult } from './simulate';

export interface SweepOptions extends Omit<SimulateOptions, 'strategy' | 'poolPages' | 'storage' | 'detail' | 'onEvent'> {
  /**
   * Strategies to compare.
   * @default ['queue', 'copy']
   */
  readonly strategies?: readonly StrategyName[];
  /**
   * Copy-pool sizes in bytes, each a multiple of the page size. Only strategies
   * with a pool (`copy`) run once per size; `queue` runs once per storage.
   * @default [1 MiB], or one page if pages are larger
   */
  readonly poolBytes?: readonly number[];
  /**
   * Storage profiles to run on.
   * @default ['hdd', 'ssd']
   */
  readonly storages?: readonly StorageProfileName[];
  /** Called after each run, for progress. */
  readonly onRow?: (row: SweepRow, index: number, total: number) => void;
}

/** One point of a sweep. */
export interface SweepRow {
  readonly storage: StorageProfileName;
  readonly strategy: StrategyName;
  /** The pool size asked for; 0 for a strategy without a pool. */
  readonly poolBytes: number;
  readonly result: SimulationResult;
}

/** One configuration to run. */
type Point = Omit<SweepRow, 'result'>;

/**
 * Runs `simulate` for every storage × strategy × pool size (pool sizes only
 * for strategies that use a pool), one after the other on the same memory,
 * with the same seed and workload: each writer draws the same pages and think
 * times in every run, so the runs differ by the configuration alone.
 *
 * @throws OptionError for a bad list or option, before anything runs.
 */
export function sweep(memory: GeometryMemory, options: SweepOptions = {}): SweepRow[] {
  const { strategies = ['queue', 'copy'], storages = ['hdd', 'ssd'], onRow, ...base } = options;
  const poolBytes = options.poolBytes ?? [defaultPoolPages(memory.pageSize) * memory.pageSize];
  // Step 1: check every list first, so a typo fails before minutes of runs.
  checkList('strategies', strategies);
  checkList('storages', storages);
  checkList('poolBytes', poolBytes);
  strategies.forEach((s, i) => resolveStrategyName(s, `strategies[${i}]`));
  storages.forEach((s, i) => resolveProfile(s, `storages[${i}]`));
  poolBytes.forEach((bytes, i) => {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes % memory.pageSize !== 0) {
      throw new OptionError(`poolBytes[${i}]`, `a multiple of the page size (${memory.pageSize}) from 0 up`, bytes);
    }
  });

  // Step 2: the grid, storage by storage.
  const points: Point[] = [];
  for (const storage of storages) {
    for (const strategy of strategies) {
      if (!resolveStrategy(strategy).usesPool) points.push({ storage, strategy, poolBytes: 0 });
      else for (const bytes of poolBytes) points.push({ storage, strategy, poolBytes: bytes });
    }
  }

  // Step 3: run them in turn.
  return points.map((point, i) => {
    const result = simulate(memory, {
      ...base,
      storage: point.storage,
      strategy: point.strategy,
      poolPages: point.poolBytes / memory.pageSize,
    });
    const row = { ...point, result };
    onRow?.(row, i, points.length);
    return row;
  });
}

function checkList(option: string, list: unknown): void {
  if (!Array.isArray(list) || list.length === 0) throw new OptionError(option, 'a non-empty array', list);
}

function resolveStrategyName(name: unknown, option: string): void {
  if (name !== 'queue' && name !== 'copy') throw new OptionError(option, "'queue' or 'copy'", name);
}
