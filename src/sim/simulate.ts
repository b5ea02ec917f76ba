import { OptionError, SimulationStalledError } from '../errors';
import { defaultRunBytes } from '../pipeline/options';
import { snapshot } from '../pipeline/snapshot';
import type { SnapshotEvent, SnapshotStats } from '../pipeline/events';
import { checkCapacity, checkSink } from '../storage/checkCapacity';
import { resolveProfile, type StorageProfile, type StorageProfileName } from '../storage/profiles';
import type { PageRun, SnapshotHeader, Sink, SinkCallback, WriteSizeHint } from '../storage/Sink';
import { ThrottledSink } from '../storage/ThrottledSink';
import { writeRunsTo } from '../storage/writeRuns';
import { DEFAULT_MAX_WRITE_BYTES } from '../pipeline/writeSize';
import type { StrategyName } from '../strategies';
import type { Strategy } from '../strategies/Strategy';
import { DiscardSink } from './DiscardSink';
import type { GeometryMemory } from './GeometryMemory';
import { checkSeed, randomStreams, seededId, type RandomStream } from './random';
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
   * Most bytes in one fault write, as in `snapshot()`.
   * @default one page
   */
  readonly faultRunBytes?: number;
  /**
   * Bytes handed to the sink per turn before the pipeline yields, as in
   * `snapshot()`. In virtual time a yield takes no time, so this only costs
   * simulation work (one zero-delay action per turn).
   * @default 4194304 (4 MiB)
   */
  readonly turnBytes?: number;
  /** The smallest write, as in `snapshot()`. @default 65536 (64 KiB) */
  readonly minWriteBytes?: number;
  /** The largest write, as in `snapshot()`. @default the device's suggestion (`ThrottledSink.writeSize`) */
  readonly maxWriteBytes?: number;
  /** The bulk pass's share of every write, as in `snapshot()`. @default 0.25 */
  readonly bulkShare?: number;
  /**
   * Bytes per second a page copy runs at: every copy (the `copy` strategy's)
   * takes `pageSize / copyBandwidth` of virtual time, during which the
   * faulting writer waits and nothing else runs, as on a busy CPU. The
   * default, about 1 µs for a 4 KiB page, is of the order of the page copies
   * measured in `docs/LIMITS.md`.
   * @default 4e9
   */
  readonly copyBandwidth?: number;
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
  /**
   * Wraps the simulated storage before the snapshot gets it: `device` is the
   * storage model (a `ThrottledSink` on the simulation's clock), and the sink
   * returned is what the pipeline writes to. For logging what reaches
   * storage, independently of the pipeline's own events, or for modelling a
   * device that misbehaves (a wrapper may delay callbacks on `clock`). Its
   * `capacity` is the pipeline's credits.
   */
  readonly wrapStorage?: (device: Sink, clock: VirtualClock) => Sink;
}

/**
 * Host memory the snapshot needs beyond the memory itself, in bytes: the
 * price of a strategy. Counted: the page-state map and the copy pool. Not
 * counted: bookkeeping that grows with the writers, not the memory (queued
 * faults, waiting writes, fault times), and the JavaScript heap of the
 * pipeline itself.
 */
export interface HostMemory {
  /** The page-state map: one byte per page, for either strategy. */
  readonly stateBytes: number;
  /** The copy pool as allocated before t0: `poolPages × pageSize` (0 for `queue`). */
  readonly poolBytes: number;
  /**
   * The most pool bytes holding copies at once. Not a price: the pool is
   * allocated in full before t0 whatever part of it the run uses. It says how
   * much of the pool this workload needed.
   */
  readonly poolPeakBytes: number;
  /**
   * `stateBytes + poolBytes`: what the snapshot holds from before t0 to its
   * end, used or not (for `queue`, the page states alone). The sweep's table
   * shows it as `host` and its plot puts it on the x axis.
   */
  readonly allocatedBytes: number;
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
 * The run is bounded: a snapshot that would never end (a sink that never
 * calls back, say) is cancelled and reported as a `SimulationStalledError`,
 * rather than leaving the writers, and the call, running forever. Its limits
 * (`stallLimits`) lie far past anything a working pipeline reaches.
 *
 * @throws OptionError for a bad option; `SimulationStalledError` for a
 *   snapshot that would never end; any error the snapshot ends with.
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
  const { wrapStorage } = options;
  const copyBandwidth = options.copyBandwidth ?? 4e9;
  if (typeof copyBandwidth !== 'number' || !(copyBandwidth > 0)) {
    throw new OptionError('copyBandwidth', 'a number of bytes per second above 0 (Infinity for free copies)', copyBandwidth);
  }
  if (wrapStorage !== undefined && typeof wrapStorage !== 'function') {
    throw new OptionError('wrapStorage', 'a function from the device and the clock to a Sink', wrapStorage);
  }

  // Step 2: a fresh virtual clock; the device model and the writers run on it. The
  // pipeline writes through a ProgressSink, which notes when it last handed anything over.
  const scheduler = new VirtualClock();
  const device = new ThrottledSink(new DiscardSink(capacity), { profile: storage, scheduler });
  const storageSink = wrapStorage === undefined ? device : wrapStorage(device, scheduler);
  try {
    checkSink(storageSink);
  } catch (error) {
    throw error instanceof OptionError ? new OptionError('wrapStorage', `a function that returns ${error.expected}`, storageSink) : error;
  }
  const sink = new ProgressSink(storageSink, scheduler);
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
    faultRunBytes: options.faultRunBytes,
    turnBytes: options.turnBytes,
    minWriteBytes: options.minWriteBytes,
    maxWriteBytes: options.maxWriteBytes,
    bulkShare: options.bulkShare,
    detail: options.detail ?? false,
    id: seededId(seed),
    scheduler,
  });
  // Every page copy takes its time on the clock: the faulting writer waits for it.
  const copyMs = (memory.pageSize / copyBandwidth) * 1000;
  memory.copyCost = copyMs > 0 ? () => scheduler.spend(copyMs) : undefined;
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

  // Step 4: run virtual time until the snapshot ends, or until it is seen never to.
  const largestWrite = Math.max(options.runBytes ?? defaultRunBytes(memory.pageSize), options.maxWriteBytes ?? sink.writeSize?.max ?? DEFAULT_MAX_WRITE_BYTES, options.faultRunBytes ?? memory.pageSize);
  const limits = stallLimits(memory, storage, capacity, largestWrite);
  try {
    for (;;) {
      // Run up to the sooner limit: no progress for too long, or the run too long.
      const limit = Math.min(sink.lastAt + limits.noProgressMs, limits.overTimeMs);
      const more = scheduler.flushUntil(limit);
      if (stats !== undefined || failure !== undefined) break;
      if (!more) throw new SimulationStalledError('idle', scheduler.now(), sink.lastAt, 0);
      // Progress came during the flush: its limit is later, go on.
      if (limit < limits.overTimeMs && sink.lastAt + limits.noProgressMs > limit) continue;
      throw limit < limits.overTimeMs
        ? new SimulationStalledError('no-progress', limit, sink.lastAt, limits.noProgressMs)
        : new SimulationStalledError('over-time', limit, sink.lastAt, limits.overTimeMs);
    }
  } finally {
    // The writers first, so that the pages unprotected by the cancel leave them idle.
    writers.stop();
    subscription.unsubscribe();
    memory.copyCost = undefined;
  }
  if (failure !== undefined) throw failure.error;
  // The loop ends with the snapshot's error, thrown above, or its `done`.
  const doneStats = stats as SnapshotStats;

  // Step 5: the pipeline's stats, the writers' side, and the host memory.
  const writerStats = writers.stats;
  const stateBytes = memory.pageCount;
  return {
    stats: doneStats,
    storage: typeof options.storage === 'string' || options.storage === undefined ? { ...storage, name: options.storage ?? 'ssd' } : { ...storage },
    capacity,
    seed,
    workload: {
      ...workload,
      ...writerStats,
      blockedShare: workload.writers === 0 || doneStats.durationMs === 0 ? 0 : writerStats.blockedMs / (workload.writers * doneStats.durationMs),
    },
    hostMemory: {
      stateBytes,
      poolBytes: doneStats.pool.pages * doneStats.pageSize,
      poolPeakBytes: doneStats.pool.peakBytes,
      allocatedBytes: stateBytes + doneStats.pool.pages * doneStats.pageSize,
    },
  };
}

/** The limits past which `simulate` gives up on a snapshot, in virtual ms. */
export interface StallLimits {
  /** The longest the pipeline may hand nothing to storage (no write, no end). */
  readonly noProgressMs: number;
  /** The latest, from t0, the snapshot may end. */
  readonly overTimeMs: number;
}

/**
 * The limits for a snapshot of `memory` on `storage` with `capacity` writes
 * in flight, both far past anything a working pipeline reaches:
 * - No progress: 1000 × `capacity` × (latency + largest write / bandwidth), at
 *   least 1 s. A working pipeline hands a write over whenever one completes
 *   and work is left, and ends the sink once the last completes, so it never
 *   goes longer without a hand-over than its in-flight writes take one after
 *   another: `capacity` writes of at most `runBytes`.
 * - Over time: 2 × (pages × latency + bytes / bandwidth), at least 1 min.
 *   Each page is written once and the device is never left idle while the
 *   snapshot runs, so even with every page in its own write, one at a time,
 *   it ends by half of this.
 */
export function stallLimits(memory: GeometryMemory, storage: Required<StorageProfile>, capacity: number, runBytes: number): StallLimits {
  const { bandwidth, latency } = storage;
  const bytes = memory.pageCount * memory.pageSize;
  const writeMs = latency + (Math.min(runBytes, bytes) / bandwidth) * 1000;
  return {
    noProgressMs: Math.max(1000, 1000 * capacity * writeMs),
    overTimeMs: Math.max(60_000, 2 * (memory.pageCount * latency + (bytes / bandwidth) * 1000)),
  };
}

/**
 * The sink the pipeline writes to: the storage, noting when the pipeline last
 * handed it a write or the end — the simulation's measure of progress.
 */
class ProgressSink implements Sink {
  /** Virtual time of the last `start`, `write` or `end`. */
  lastAt = 0;
  /** Present when the storage takes several runs as one write. */
  readonly writeRuns?: (runs: readonly PageRun[], done: SinkCallback) => void;

  constructor(
    private readonly inner: Sink,
    private readonly clock: VirtualClock,
  ) {
    if (typeof inner.writeRuns === 'function') {
      this.writeRuns = (runs, done) => {
        this.lastAt = this.clock.now();
        writeRunsTo(this.inner, runs, done);
      };
    }
  }

  get capacity(): number {
    return this.inner.capacity;
  }

  get writeSize(): WriteSizeHint | undefined {
    return this.inner.writeSize;
  }

  start(header: SnapshotHeader): void {
    this.lastAt = this.clock.now();
    this.inner.start(header);
  }

  write(run: PageRun, done: SinkCallback): void {
    this.lastAt = this.clock.now();
    this.inner.write(run, done);
  }

  end(done: SinkCallback): void {
    this.lastAt = this.clock.now();
    this.inner.end(done);
  }

  abort(reason: unknown): void | PromiseLike<void> {
    return this.inner.abort(reason);
  }
}
