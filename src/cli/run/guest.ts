import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { identity, tap, type Observable } from 'rxjs';
import { PagedMemory } from '../../memory/PagedMemory';
import type { SnapshotEvent, SnapshotStats, StartedEvent } from '../../pipeline/events';
import { DEFAULT_RUN_BYTES, DEFAULT_TURN_BYTES } from '../../pipeline/options';
import { snapshot } from '../../pipeline/snapshot';
import type { Compression } from '../../compression/choose';
import { DEFAULT_FILE_CAPACITY } from '../../storage/FileSink';
import { snapshotSink } from '../files';
import type { RestoreStats } from '../../restore/events';
import { restoreLive } from '../../restore/restoreLive';
import { openSnapshot } from '../../format/reader';
import { storageProfiles, type StorageProfileName } from '../../storage/profiles';
import type { Sink } from '../../storage/Sink';
import { ThrottledSink } from '../../storage/ThrottledSink';
import type { MemoryHandle } from '../../threads/handle';
import { CancelledError } from '../errors';
import { showProgress, type ProgressReporterOptions } from '../progress';
import { Vcpus, type VcpuReport } from './vcpus';
import type { WorkloadName } from './workload';

/** One guest run: the memory, its vCPUs, and the snapshot taken while they write. */
export interface GuestConfig {
  readonly ramBytes: number;
  readonly pageSize: number;
  readonly vcpus: number;
  readonly workload: WorkloadName;
  /** Writes per second per vCPU while not blocked, or as many as each can. */
  readonly writesPerSecond: number | 'max';
  readonly seed: number;
  readonly strategy: 'queue' | 'copy';
  /** Bytes of the copy pool: a whole number of pages. */
  readonly poolBytes: number;
  /** A throttling profile in front of the file, or `none` for the file as fast as it goes. */
  readonly storage: StorageProfileName | 'none';
  /**
   * Snapshot writes in flight: the file sink's capacity.
   * @default the profile's queue depth, so that a fault waits behind no more writes than the device takes at once; 16 with `none`
   */
  readonly capacity?: number;
  /**
   * Most bytes in one bulk write (`SnapshotOptions.runBytes`).
   * @default 256 KiB, or one page if pages are larger
   */
  readonly runBytes?: number;
  /**
   * Most bytes in one fault write (`SnapshotOptions.faultRunBytes`).
   * @default one page
   */
  readonly faultRunBytes?: number;
  /** The snapshot file, or object (`s3://bucket/key`). */
  readonly out: string;
  /** Replace a file at `out` (and at the chain's files). */
  readonly force: boolean;
  /** How the records are stored. @default 'none' */
  readonly compression?: Compression;
  /** The S3-compatible server of an `s3://` `out`. */
  readonly endpoint?: string;
  /**
   * Snapshots of the running guest: one full one, then `snapshots − 1`
   * incremental ones, `intervalMs` apart, while the vCPUs keep writing. With
   * more than one, the files are `chainFiles(out, snapshots)`.
   * @default 1
   */
  readonly snapshots?: number;
  /** Milliseconds from the end of one snapshot to the t0 of the next. @default 1000 */
  readonly intervalMs?: number;
  /**
   * Start the guest from this snapshot file with a live restore: the vCPUs
   * run from its `started`, while the pages load. Its geometry is the
   * guest's (`ramBytes` and `pageSize` are taken from it).
   */
  readonly from?: string;
}

/** How a guest started from a snapshot (`GuestConfig.from`) was loaded. */
export interface GuestResume {
  readonly from: string;
  readonly stats: RestoreStats;
  /** From subscribing to the live restore to the first write a vCPU completed. */
  readonly firstWriteMs: number | undefined;
}

/** One snapshot of a run: its file, its `started` and its stats. */
export interface GuestSnapshot {
  readonly out: string;
  readonly started: StartedEvent;
  readonly stats: SnapshotStats;
}

/**
 * The files of a chain of `count` snapshots written for `out`: `out` itself
 * for one; for more, `<base>.0.bgsnap`, `<base>.1.bgsnap`, … where `<base>`
 * is `out` without its `.bgsnap` extension.
 */
export function chainFiles(out: string, count: number): string[] {
  if (count === 1) return [out];
  const base = out.endsWith('.bgsnap') ? out.slice(0, -'.bgsnap'.length) : out;
  return Array.from({ length: count }, (_, i) => `${base}.${i}.bgsnap`);
}

/** How long the vCPUs write before t0, so that the cut is a moment of a running guest. */
const WARM_UP_MS = 100;

export interface GuestRunOptions {
  /**
   * The memory to run on, from `createGuest`, for runs one after another on
   * one guest; its geometry and shared pool must fit `config`.
   * @default a new one, from `createGuest(config)`
   */
  readonly guest?: Guest;
  /** Aborting it cancels the run: the snapshot is unsubscribed, its file removed, the vCPUs stopped. */
  readonly signal?: AbortSignal;
  /** Where and how progress is shown; `false`: not at all. */
  readonly progress?: ProgressReporterOptions | false;
  /** Every snapshot event, for a recorder. */
  readonly onEvent?: (event: SnapshotEvent) => void;
}

export interface GuestRun {
  readonly config: GuestConfig;
  /** The first snapshot's (the full one's). */
  readonly started: StartedEvent;
  readonly stats: SnapshotStats;
  /** Every snapshot taken, base first: one, or a chain (`GuestConfig.snapshots`). */
  readonly snapshots: readonly GuestSnapshot[];
  /** Per vCPU, in writer-id order (the order of `stats.cut`). */
  readonly vcpus: readonly VcpuReport[];
  /** With `GuestConfig.from`: the live restore the guest started with. */
  readonly resume?: GuestResume;
}

/** A guest memory shared with writer threads. */
export interface Guest {
  readonly memory: PagedMemory;
  readonly handle: MemoryHandle;
}

/**
 * A guest memory of `ramBytes` in one block, `ram`, with data in every page,
 * shared with writer threads with a pool of `poolBytes`. A memory takes at
 * most 256 writer threads over its life (`MAX_WRITERS`), vCPUs of every run on it together.
 */
export function createGuest({ ramBytes, pageSize, poolBytes }: Pick<GuestConfig, 'ramBytes' | 'pageSize' | 'poolBytes'>): Guest {
  const memory = new PagedMemory({ pageSize, blocks: [{ name: 'ram', size: ramBytes }] });
  fill(memory);
  return { memory, handle: memory.share({ poolBytes }) };
}

/**
 * Runs a guest: on a new memory (`createGuest`) or the one given, starts the vCPU threads, lets them write for `WARM_UP_MS`, takes
 * one snapshot to `out` (or a chain: `GuestConfig.snapshots`) on the chosen storage while they go on, then stops
 * them. The file is written by `FileSink`: under a temporary name, given its
 * own only when complete.
 * @throws CancelledError when `signal` aborts first: the snapshot is cancelled, its temporary file removed and the vCPUs terminated.
 */
export async function runGuest(config: GuestConfig, options: GuestRunOptions = {}): Promise<GuestRun> {
  const { signal } = options;
  const reason = (): NodeJS.Signals => (signal?.reason as NodeJS.Signals | undefined) ?? 'SIGINT';
  const count = config.snapshots ?? 1;
  const files = chainFiles(config.out, count);
  if (signal?.aborted) throw new CancelledError(reason(), leftover(config.out, existsSync(config.out), false));

  // Step 1: the guest memory and its vCPU threads.
  const { memory, handle } = options.guest ?? (config.from === undefined ? createGuest(config) : await emptyGuest(config.from, config.poolBytes));
  const vcpus = await Vcpus.start(handle, {
    count: config.vcpus,
    workload: config.workload,
    writesPerSecond: config.writesPerSecond,
    seed: config.seed,
  });
  try {
    // Step 2: started from a snapshot, the vCPUs run from the live restore's `started`; then
    // (or at once) they write for a while before t0.
    let resume: { stats: RestoreStats; subscribedAt: number } | undefined;
    if (config.from !== undefined) resume = await resumeGuest(memory, config.from, () => vcpus.go(), signal, reason);
    vcpus.go();
    await abortable(new Promise((resolve) => setTimeout(resolve, WARM_UP_MS)), signal, () => new CancelledError(reason(), leftover(config.out, existsSync(config.out), false)));

    // Step 3: the snapshots, each to its file through the storage model: a full one, then
    // incremental ones of the same guest, `intervalMs` apart, while the vCPUs go on.
    const snapshots: GuestSnapshot[] = [];
    for (const [i, out] of files.entries()) {
      if (i > 0) {
        const earlier = `${snapshots.length} earlier snapshot${snapshots.length === 1 ? '' : 's'} of the chain ${snapshots.length === 1 ? 'is' : 'are'} complete`;
        await abortable(new Promise((resolve) => setTimeout(resolve, config.intervalMs ?? 1000)), signal, () => new CancelledError(reason(), `${leftover(out, existsSync(out), false)}; the ${earlier}`));
      }
      const label = count === 1 ? `snapshot (${config.strategy})` : `[${i + 1}/${count}] ${i === 0 ? 'full' : 'incremental'} snapshot (${config.strategy})`;
      const progress = options.progress === false ? false : { ...options.progress, label: count === 1 ? (options.progress?.label ?? label) : label };
      snapshots.push(await saveSnapshot(memory, config, out, i > 0, { ...options, progress }, reason));
    }

    // Step 4: the vCPUs stop and report.
    const reports = await vcpus.stop();
    const first = snapshots[0] as GuestSnapshot;
    const run: GuestRun = { config, started: first.started, stats: first.stats, snapshots, vcpus: reports };
    if (resume === undefined || config.from === undefined) return run;
    const writes = reports.map((r) => r.firstWriteAt).filter((at): at is number => at !== undefined);
    const firstWriteMs = writes.length === 0 ? undefined : Math.min(...writes) - resume.subscribedAt;
    return { ...run, resume: { from: config.from, stats: resume.stats, firstWriteMs } };
  } finally {
    await vcpus.terminate();
  }
}

/**
 * One snapshot of the guest to `out`, through the storage model; incremental
 * after the first. Cancelled by the signal: unsubscribed, its temporary file
 * removed, a `CancelledError` saying what is left at `out`.
 */
async function saveSnapshot(
  memory: PagedMemory,
  config: GuestConfig,
  out: string,
  incremental: boolean,
  options: GuestRunOptions,
  reason: () => NodeJS.Signals,
): Promise<GuestSnapshot> {
  const { signal } = options;
  const existed = existsSync(out);
  /** The cancel's error; `finished`: the snapshot had its file's name before the cancel took hold. */
  const cancelled = (finished = false): CancelledError => new CancelledError(reason(), leftover(out, existed, finished));
  const capacity = capacityOf(config);
  const file = await snapshotSink(out, { overwrite: config.force, capacity, compression: config.compression ?? 'none', endpoint: config.endpoint });
  const sink: Sink & { whenClosed(): Promise<void> } = config.storage === 'none' ? file : new ThrottledSink(file, { profile: config.storage, bytes: (config.compression ?? 'none') === 'none' ? 'pages' : 'stored' });
  let started: StartedEvent | undefined;
  let stats: SnapshotStats | undefined;
  // A turn (and a progress event) per round of credits, at most the default 4 MiB (or one run, when
  // --run-bytes is larger): on a slow device with one write in flight, progress still comes every few
  // writes. Runs and turns of at least one page: the library's defaults are smaller than the largest pages.
  const runBytes = runBytesOf(config);
  const turnBytes = Math.max(config.pageSize, Math.min(Math.max(DEFAULT_TURN_BYTES, runBytes), capacity * runBytes));
  const events$ = snapshot(memory, sink, {
    strategy: config.strategy,
    poolPages: config.poolBytes / config.pageSize,
    runBytes,
    faultRunBytes: config.faultRunBytes,
    turnBytes,
    incremental,
  }).pipe(
    tap((event) => options.onEvent?.(event)),
    options.progress === false ? identity : showProgress({ label: `snapshot (${config.strategy})`, ...options.progress }),
  );
  await untilAborted(
    events$,
    (event) => {
      if (event.type === 'started') started = event;
      else if (event.type === 'done') stats = event.stats;
    },
    signal,
    (reject) => {
      // The sink's abort removes the temporary file; the error waits for it. Once `done` has
      // arrived, or the sink ended (took the file's name) before the abort, the snapshot is in place.
      const doneFirst = stats !== undefined;
      sink.whenClosed().then(
        () => reject(cancelled(doneFirst || file.state === 'ended')),
        (error: unknown) => reject(new CancelledError(reason(), error instanceof Error ? error.message : String(error))),
      );
    },
  );
  if (started === undefined || stats === undefined) throw new Error('the snapshot completed without its started and done events');
  return { out, started, stats };
}

/** A guest memory with the geometry of the snapshot at `from` and no data yet, shared with writer threads. */
async function emptyGuest(from: string, poolBytes: number): Promise<Guest> {
  const file = await openSnapshot(from);
  await file.close();
  const { pageSize, blocks } = file.header;
  const memory = new PagedMemory({ pageSize, blocks: blocks.map(({ name, size }) => ({ name, size })) });
  return { memory, handle: memory.share({ poolBytes }) };
}

/**
 * Loads the snapshot at `from` into `memory` with a live restore, calling
 * `go` at its `started` (the vCPUs run while it loads); resolves at `done`
 * with its stats and the wall time of the subscribe. A cancel unsubscribes it.
 */
function resumeGuest(memory: PagedMemory, from: string, go: () => void, signal: AbortSignal | undefined, reason: () => NodeJS.Signals): Promise<{ stats: RestoreStats; subscribedAt: number }> {
  let stats: RestoreStats | undefined;
  const subscribedAt = performance.timeOrigin + performance.now();
  return untilAborted(
    restoreLive(from, memory),
    (event) => {
      if (event.type === 'started') go();
      else if (event.type === 'done') stats = event.stats;
    },
    signal,
    (reject) => reject(new CancelledError(reason(), `the live restore of ${JSON.stringify(from)} was stopped; nothing was written`)),
  ).then(() => ({ stats: stats as RestoreStats, subscribedAt }));
}

/**
 * Subscribes to `events$` until it completes (resolves) or errors (rejects).
 * An abort of `signal` first unsubscribes and hands `onAbort` the rejection.
 */
function untilAborted<T>(events$: Observable<T>, next: (event: T) => void, signal: AbortSignal | undefined, onAbort: (reject: (error: unknown) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const abort = (): void => {
      subscription.unsubscribe();
      onAbort(reject);
    };
    const subscription = events$.subscribe({
      next,
      error: (error: unknown) => {
        signal?.removeEventListener('abort', abort);
        reject(error);
      },
      complete: () => {
        signal?.removeEventListener('abort', abort);
        resolve();
      },
    });
    if (!subscription.closed) signal?.addEventListener('abort', abort, { once: true });
  });
}

/** The file sink's capacity for `config`. */
export function capacityOf(config: Pick<GuestConfig, 'capacity' | 'storage'>): number {
  return config.capacity ?? (config.storage === 'none' ? DEFAULT_FILE_CAPACITY : storageProfiles[config.storage].queueDepth);
}

/** Most bytes in one bulk write for `config`: the library's default, or one page where pages are larger. */
export function runBytesOf(config: Pick<GuestConfig, 'runBytes' | 'pageSize'>): number {
  return config.runBytes ?? Math.max(DEFAULT_RUN_BYTES, config.pageSize);
}

/**
 * What a cancel left at `path`: the snapshot when it `finished` first (it
 * replaced the file that `existed` there, if one did), else the file that was
 * there, or nothing.
 */
function leftover(path: string, existed: boolean, finished: boolean): string {
  const name = JSON.stringify(path);
  if (finished) return `the snapshot finished first: ${name} is complete${existed ? ' (it replaced the file that was there)' : ''}`;
  return existed ? `the file that was there is unchanged at ${name}` : `nothing was written to ${name}`;
}

/**
 * Puts data in every page: one random MiB repeated, each page stamped with
 * its number in its first word, so that no page is all zero (zero pages are
 * flagged in the file, not written) and no two pages are the same.
 */
function fill(memory: PagedMemory): void {
  for (const block of memory.blocks) {
    const pattern = randomFillSync(new Uint8Array(Math.min(block.size, 1 << 20)));
    for (let at = 0; at < block.size; at += pattern.length) block.bytes.set(pattern.subarray(0, block.size - at), at);
    const view = new DataView(block.bytes.buffer);
    for (let page = 0; page < block.pages; page++) view.setUint32(page * memory.pageSize, block.firstPage + page + 1, true);
  }
}

/** `promise`, or a rejection with `error()` as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, error: () => Error): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(error());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(error());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (reason: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(reason);
      },
    );
  });
}
