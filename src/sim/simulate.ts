import { snapshot } from '../pipeline/snapshot';
import type { SnapshotEvent, SnapshotStats } from '../pipeline/events';
import { checkCapacity } from '../storage/checkCapacity';
import { resolveProfile, type StorageProfile, type StorageProfileName } from '../storage/profiles';
import { ThrottledSink } from '../storage/ThrottledSink';
import type { StrategyName } from '../strategies';
import type { Strategy } from '../strategies/Strategy';
import { DiscardSink } from './DiscardSink';
import type { GeometryMemory } from './GeometryMemory';
import { checkSeed, randomStreams, type RandomStream } from './random';
import { PageChooser, resolveWorkload, type ResolvedWorkload, type WorkloadOptions } from './workload';
import { VirtualClock } from './VirtualClock';
import { Writers, type WriterStats } from './writers';

export interface SimulateOptions {
  /**
   * How faults are served, as in `snapshot()`.
   * @default 'copy'
   */
  readonly strategy?: StrategyName | Strategy;
  /**
   * Page buffers in the copy pool, as in `snapshot()`.
   * @default 256
   */
  readonly poolPages?: number;
  /**
   * Most bytes in one bulk write, as in `snapshot()`.
   * @default 262144 (256 KiB)
   */
  readonly runBytes?: number;
  /**
   * Bytes handed to the sink per turn before the pipeline yields, as in
   * `snapshot()`. In virtual time a yield takes no time, so this only costs
   * simulation work (one zero-delay action per turn).
   * @default 4194304 (4 MiB)
   */
  readonly turnBytes?: number;
  /**
   * The storage device: `'hdd'`, `'ssd'`, `'nvme'` (see `storageProfiles`) or
   * `{ bandwidth, latency, queueDepth }`.
   * @default 'ssd'
   */
  readonly storage?: StorageProfileName | StorageProfile;
  /**
   * Writes the pipeline keeps in flight (the sink's credits). More than the
   * device's queue depth only lines writes up in front of the faults.
   * @default the storage's queueDepth
   */
  readonly capacity?: number;
  /** The writers. See `WorkloadOptions` for the defaults. */
  readonly workload?: WorkloadOptions;
  /**
   * Seeds every random choice: the same seed and options give the same result.
   * @default 1
   */
  readonly seed?: number;
  /**
   * Ask the pipeline for `fault`, `saved` and `unprotected` events (see `onEvent`).
   * @default false
   */
  readonly detail?: boolean;
  /** Receives every event of the snapshot, in virtual time. */
  readonly onEvent?: (event: SnapshotEvent) => void;
}

/**
 * Host memory the snapshot needs beyond the memory itself, in bytes. Counted:
 * the page-state map and the copy pool. Not counted: bookkeeping that grows
 * with the writers, not the memory (queued faults, waiting writes, fault
 * times), and the JavaScript heap of the pipeline itself.
 */
export interface HostMemory {
  /** The page-state map: one byte per page, for either strategy. */
  readonly stateBytes: number;
  /** The copy pool as allocated before t0: `poolPages × pageSize` (0 for `queue`). */
  readonly poolBytes: number;
  /** The most pool bytes holding copies at once. */
  readonly poolPeakBytes: number;
  /** `stateBytes + poolPeakBytes`: the most the strategy held at once. The sweep plots it. */
  readonly peakBytes: number;
}

/** The workload as run, and what the writers saw. */
export interface SimulatedWorkload extends ResolvedWorkload, WriterStats {
  /** Share of the writers' time spent blocked: `blockedMs / (writers × durationMs)`. */
  readonly blockedShare: number;
}

export interface SimulationResult {
  /** The pipeline's own stats, from its `done` event; times in virtual milliseconds. */
  readonly stats: SnapshotStats;
  /** The device, with its name when it was given by one. */
  readonly storage: Required<StorageProfile> & { readonly name?: string };
  /** The sink's credits. */
  readonly capacity: number;
  readonly seed: number;
  readonly workload: SimulatedWorkload;
  readonly hostMemory: HostMemory;
}

/**
 * Runs `snapshot()` — the real pipeline and strategies — in virtual time over
 * a memory without bytes, a simulated storage device and a stochastic write
 * workload, and returns its stats. Seeded: the same seed and options give the
 * same result. Runs synchronously, in wall time that grows with the pages
 * and the writes, not with the bytes.
 *
 * @throws OptionError for a bad option; any error the snapshot ends with.
 * @example
 * const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: 64 * 2 ** 30 }] });
 * const { stats } = simulate(memory, { strategy: 'queue', storage: 'hdd' });
 * console.log(stats.stall.p99, stats.durationMs);
 */
export function simulate(memory: GeometryMemory, options: SimulateOptions = {}): SimulationResult {
  // Step 1: check the options before anything runs.
  const storage = resolveProfile(options.storage ?? 'ssd', 'storage');
  const capacity = checkCapacity(options.capacity ?? storage.queueDepth);
  const seed = checkSeed(options.seed ?? 1);
  const memoryBytes = memory.pageCount * memory.pageSize;
  const workload = resolveWorkload(options.workload, memoryBytes);

  // Step 2: a fresh virtual clock; the device model and the writers run on it.
  const scheduler = new VirtualClock();
  const sink = new ThrottledSink(new DiscardSink(capacity), { profile: storage, scheduler });
  // Stream 0 places the hot set; stream i + 1 drives writer i alone, so a writer's pages
  // and think times are the same under every strategy and storage (common random numbers).
  const streams = randomStreams(seed, workload.writers + 1);
  const offset = Math.floor((streams.shift() as RandomStream).next() * memory.pageCount);
  const chooser = new PageChooser(memory.pageCount, memory.pageSize, workload, offset);
  const writers = new Writers(memory, scheduler, chooser, workload.writesPerSecond, streams);

  // Step 3: t0 on subscribe; the writers start with it and stop at `done`.
  let stats: SnapshotStats | undefined;
  let failure: { error: unknown } | undefined;
  const events$ = snapshot(memory, sink, {
    strategy: options.strategy,
    poolPages: options.poolPages,
    runBytes: options.runBytes,
    turnBytes: options.turnBytes,
    detail: options.detail ?? false,
    scheduler,
  });
  const subscription = events$.subscribe({
    next: (event) => {
      if (event.type === 'done') {
        stats = event.stats;
        writers.stop();
      }
      options.onEvent?.(event);
    },
    error: (error: unknown) => {
      failure = { error };
      writers.stop();
    },
  });
  // A snapshot that could not start (the memory has one running) fails here, writers idle.
  if (failure === undefined) writers.start();

  // Step 4: run virtual time until nothing is left to do.
  try {
    scheduler.flush();
  } finally {
    writers.stop();
    subscription.unsubscribe();
  }
  if (failure !== undefined) throw failure.error;
  if (stats === undefined) throw new Error('The simulated snapshot stopped before its end: no work was left and no `done` came');

  // Step 5: the pipeline's stats, the writers' side, and the host memory.
  const writerStats = writers.stats;
  const stateBytes = memory.pageCount;
  return {
    stats,
    storage: typeof options.storage === 'string' || options.storage === undefined ? { ...storage, name: options.storage ?? 'ssd' } : { ...storage },
    capacity,
    seed,
    workload: {
      ...workload,
      ...writerStats,
      blockedShare: workload.writers === 0 || stats.durationMs === 0 ? 0 : writerStats.blockedMs / (workload.writers * stats.durationMs),
    },
    hostMemory: {
      stateBytes,
      poolBytes: stats.pool.pages * stats.pageSize,
      poolPeakBytes: stats.pool.peakBytes,
      peakBytes: stateBytes + stats.pool.peakBytes,
    },
  };
}
