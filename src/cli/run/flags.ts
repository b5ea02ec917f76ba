import { InvalidArgumentError, Option, type Command } from 'commander';
import { OptionError } from '../../errors';
import { checkPageSize, layoutBlocks } from '../../memory/geometry';
import { storageProfiles, type StorageProfileName } from '../../storage/profiles';
import { parseChoice, parseInteger, parseNumber, parseSize } from '../parse';
import { usageError } from '../usage';
import { WORKLOADS, type WorkloadName } from './workload';

/** Storage for `--storage`: a throttling profile, or `none`. */
export const STORAGES = [...(Object.keys(storageProfiles) as StorageProfileName[]), 'none'] as const;
export type StorageName = (typeof STORAGES)[number];

/** Most vCPU threads a run starts. */
export const MAX_VCPUS = 64;

/** Most runs `--repeat` takes. */
export const MAX_REPEAT = 100;

/** The largest guest: one block, and a `PagedMemory` block holds at most 4 GiB. */
export const MAX_RAM = 4 * 1024 ** 3;

/** The guest and storage options `run` and `compare` share, as commander parses them. */
export interface GuestFlags {
  readonly ram: number;
  readonly pageSize: number;
  readonly vcpus: number;
  readonly workload: WorkloadName;
  readonly writeRate: number | 'max';
  readonly seed: number;
  readonly storage: StorageName;
  readonly capacity?: number;
  readonly runBytes?: number;
  readonly faultRunBytes?: number;
  /** Runs of each configuration; the report gives their median and range. */
  readonly repeat: number;
}

/** The guest, workload and storage of a run, as `runGuest` takes them, from the flags both commands share. */
export function guestConfig(flags: GuestFlags) {
  return {
    ramBytes: flags.ram,
    pageSize: flags.pageSize,
    vcpus: flags.vcpus,
    workload: flags.workload,
    writesPerSecond: flags.writeRate,
    seed: flags.seed,
    storage: flags.storage,
    capacity: flags.capacity,
    runBytes: flags.runBytes,
    faultRunBytes: flags.faultRunBytes,
  } as const;
}

/** The help text of `--pool`'s default, the same in every command. */
export const POOL_DEFAULT_TEXT = '1MiB, or one page if pages are larger';
/** The same, inside a list of defaults. */
export const POOL_ONE_MIB_TEXT = '1MiB is one page if pages are larger';

/** `--write-rate`: writes per second above 0, or `max` for full speed. */
export function parseWriteRate(text: string): number | 'max' {
  if (text.trim() === 'max') return 'max';
  try {
    return parseNumber(0, Infinity, true)(text);
  } catch {
    throw new InvalidArgumentError(`expected writes per second above 0, or max, got ${JSON.stringify(text)}`);
  }
}

/** Adds the guest and storage options to `command`. */
export function addGuestOptions(command: Command): Command {
  return command
    .addOption(new Option('--ram <size>', 'guest memory, e.g. 256MiB, up to 4GiB').argParser(parseSize).default(256 * 1024 ** 2, '256MiB'))
    .addOption(new Option('--page-size <size>', 'page size, a power of two from 512 to 2MiB').argParser(parseSize).default(4096, '4KiB'))
    .addOption(new Option('--vcpus <n>', `vCPU threads writing to the guest, 1 to ${MAX_VCPUS}`).argParser(parseInteger(1, MAX_VCPUS)).default(2))
    .addOption(
      new Option('--workload <name>', 'random: any page; hotset: 90% of writes to the first 1/16 of memory; sequential: each vCPU walks its slice, a write per page')
        .argParser(parseChoice(WORKLOADS))
        .default('random'),
    )
    .addOption(new Option('--write-rate <n>', "writes per second per vCPU while not blocked, or 'max' for full speed").argParser(parseWriteRate).default(5000))
    .addOption(new Option('--seed <n>', 'random seed of the vCPU write offsets, 0 to 4294967295').argParser(parseInteger(0, 2 ** 32 - 1)).default(1))
    .addOption(
      new Option('--storage <name>', `the storage model in front of the file: ${STORAGES.join(', ')} (none: the file system as fast as it goes)`)
        .argParser(parseChoice(STORAGES))
        .default('ssd'),
    )
    .option('--capacity <n>', 'snapshot writes in flight (default: the storage queue depth; 16 with none)', parseInteger(1))
    .option('--run-bytes <size>', 'most bytes in one bulk write, rounded down to whole pages (default: 256KiB, or one page if pages are larger)', parseSize)
    .option('--fault-run-bytes <size>', 'most bytes in one fault write: the page and its unsaved neighbours (default: one page)', parseSize)
    .addOption(new Option('--repeat <n>', `runs of each configuration, 1 to ${MAX_REPEAT}; the report gives the median and the range`).argParser(parseInteger(1, MAX_REPEAT)).default(1));
}

/**
 * Checks what the parsers cannot check alone: the geometry, the vCPU count,
 * copy pools of whole pages (`pools`: those in use, none under `queue`).
 * Each is a usage error naming its flag.
 */
export function checkGuestFlags(flags: GuestFlags, pools: readonly number[], command: Command): void {
  try {
    checkPageSize(flags.pageSize, '--page-size');
  } catch (error) {
    if (error instanceof OptionError) usageError(command, `option '--page-size <size>': expected ${error.expected}, got ${flags.pageSize}`);
    throw error;
  }
  try {
    layoutBlocks([{ name: 'ram', size: flags.ram }], flags.pageSize);
  } catch (error) {
    if (error instanceof OptionError) usageError(command, `option '--ram <size>': expected ${error.expected}, got ${flags.ram}`);
    throw error;
  }
  if (flags.ram > MAX_RAM) usageError(command, `option '--ram <size>': expected at most 4GiB, got ${flags.ram}`);
  for (const [flag, bytes] of [['--run-bytes', flags.runBytes], ['--fault-run-bytes', flags.faultRunBytes]] as const) {
    if (bytes !== undefined && bytes < flags.pageSize) {
      usageError(command, `option '${flag} <size>': expected at least one page (${flags.pageSize}), got ${bytes}`);
    }
  }
  for (const pool of pools) {
    if (pool % flags.pageSize !== 0) {
      usageError(command, `option '--pool <size>': expected a multiple of the page size (${flags.pageSize}), got ${pool}`);
    }
  }
}

/** The default copy pool: 1 MiB, or one page where pages are larger. */
export function defaultPool(pageSize: number): number {
  return Math.max(1024 ** 2, pageSize);
}

/**
 * `run`'s default copy pool: 4 MiB, or one page where pages are larger. Its
 * default workload (2 vCPUs, 5000 random writes a second each, 256 MiB) fills
 * a 1 MiB pool in most runs, and a full pool sends faults the queue way, so
 * the stall p99 jumped between runs; 4 MiB holds it.
 */
export function defaultRunPool(pageSize: number): number {
  return Math.max(4 * 1024 ** 2, pageSize);
}

/** The help text of `run --pool`'s default. */
export const RUN_POOL_DEFAULT_TEXT = '4MiB, or one page if pages are larger';

export { checkFilePath } from '../files';
