import type { SchedulerLike } from 'rxjs';
import { OptionError } from '../errors';
import { isSnapshotId } from '../format/uuid';
import { resolveScheduler } from '../scheduling/eventLoopScheduler';
import { resolveStrategy, type StrategyName } from '../strategies';
import { checkWriteOptions, type WriteOptions } from './writeSize';
import type { Strategy } from '../strategies/Strategy';

export interface SnapshotOptions {
  /**
   * How faults are served: `'copy'` (writers wait for a page copy, at the cost
   * of pool memory), `'queue'` (no extra memory, writers wait for a storage
   * write), or a `Strategy` of your own.
   * @default 'copy'
   */
  readonly strategy?: StrategyName | Strategy;
  /**
   * Page buffers in the copy pool, allocated once per snapshot; past the
   * pool, faults are served the queue way. By default, 1 MiB of pages (256
   * at 4 KiB pages, the size that absorbs the fault bursts measured in
   * `bench/pipeline`), at least one page, and for a memory shared with
   * writer threads no more than its shared pool holds (`share({ poolBytes })`).
   * An explicit value above the shared pool is an `OptionError`.
   * @default max(1, 1 MiB / pageSize), at most the shared pool's pages
   */
  readonly poolPages?: number;
  /**
   * Most bytes in one bulk record (contiguous pages are coalesced up to
   * it); a write carries as many records as fit its size (`maxWriteBytes`).
   * At least one page; rounded down to whole pages.
   * @default max(262144 (256 KiB), pageSize)
   */
  readonly runBytes?: number;
  /**
   * Most bytes in one fault record (`queue`, or `copy` with the pool empty):
   * the faulted page and the still-unsaved pages next to it in its block.
   * One page serves the writer soonest; more lets a fault save its
   * neighbours on the way, which pays on storage where each write costs a
   * seek (on the `hdd` model a 256 KiB write costs 9.7 ms against 8.0 ms for
   * one page). A write made while a fault waits is cut to `minWriteBytes`,
   * or to this if it is larger. At least one page; rounded down to whole pages.
   * @default one page
   */
  readonly faultRunBytes?: number;
  /**
   * Bytes handed to the sink per event-loop turn before the pipeline yields,
   * so a host is never frozen, even by a sink that completes synchronously.
   * A turn ends at this or at `turnMs`, whichever comes first; the turn can
   * pass it by one write. At least one page; rounded down to whole pages.
   * @default max(4194304 (4 MiB), pageSize)
   */
  readonly turnBytes?: number;
  /**
   * The smallest write, and the size a write is cut to while a fault waits
   * (a writer waits for it). See `maxWriteBytes` for how the size moves.
   * At least one page; rounded down to whole pages.
   * @default 65536 (64 KiB), or `maxWriteBytes` if that is smaller
   */
  readonly minWriteBytes?: number;
  /**
   * The largest write: a sink write carries queued faults, pending copies and
   * bulk pages together, as many records as fit, in that order. Its size
   * starts at the sink's suggestion (`Sink.writeSize.start`, within these
   * bounds; `ThrottledSink` derives one from its profile) or at
   * `minWriteBytes`, doubles while the sink keeps up, no fault waits and the
   * last doubling paid (a write of twice the size took under 1.9 times as
   * long: `WriteSize`), up to this; a write made while a fault waits is cut
   * to `minWriteBytes`. At least one page; rounded down to whole pages.
   * @default the sink's suggestion (`Sink.writeSize.max`), else 4194304 (4 MiB)
   */
  readonly maxWriteBytes?: number;
  /**
   * The share of every write owed to the bulk pass while it has pages left,
   * however many faults and copies wait: the pass always progresses, so a
   * snapshot ends in bounded time whatever the fault rate. `0` gives faults
   * and copies strict priority; `1` gives them only what the pass leaves,
   * which is nothing until it ends. From 0 to 1.
   * @default 0.25
   */
  readonly bulkShare?: number;
  /**
   * Milliseconds of work (on the scheduler's clock) handed to the sink in one
   * event-loop turn before the pipeline yields, whatever the bytes: a sink
   * that is slow to touch fresh memory cannot freeze the host. A turn also
   * ends at `turnBytes`. Above 0.
   * @default 4
   */
  readonly turnMs?: number;
  /**
   * Save only the pages written since the t0 of the last snapshot of this
   * memory that committed (full or incremental), with the same guarantees as
   * a full snapshot. Pages not written since are not protected at all. With
   * no committed snapshot before it, or a memory that does not track written
   * pages (only `PagedMemory` does), the snapshot is a full one: `started`
   * and `done` say which (`kind`). A failed or cancelled snapshot leaves
   * every page it would have saved to the next one.
   * @default false
   */
  readonly incremental?: boolean;
  /**
   * The snapshot's id, a UUID (lowercase hex, `8-4-4-4-12`, not all zero): what
   * its file's header says and what an incremental snapshot taken after it
   * names as its parent. Give one to tie a snapshot to records of your own,
   * or for repeatable runs (the simulator derives it from its seed).
   * @default a random UUID (`crypto.randomUUID()`)
   */
  readonly id?: string;
  /**
   * Emit `fault`, `saved` and `unprotected` events (one per fault or run).
   * Off, a snapshot emits only `started`, `progress` and `done`.
   * @default false
   */
  readonly detail?: boolean;
  /**
   * The clock and the event loop: all time-based work goes through it.
   * @default eventLoopScheduler
   */
  readonly scheduler?: SchedulerLike;
}

/** Options with defaults filled in and checked. */
export interface ResolvedOptions {
  readonly strategy: Strategy;
  /** `undefined`: the default, sized when the pool is allocated (`allocatePool`). */
  readonly poolPages: number | undefined;
  readonly runPages: number;
  readonly faultRunPages: number;
  readonly turnPages: number;
  /** `minWriteBytes`, `maxWriteBytes`, `bulkShare`, `turnMs`: sized against the sink's hint at start (`WriteSize`). */
  readonly write: WriteOptions;
  readonly incremental: boolean;
  /** `undefined`: a random one at t0. */
  readonly id: string | undefined;
  readonly detail: boolean;
  readonly scheduler: SchedulerLike;
}

/** The copy pool's default size in bytes, before rounding to pages (see `defaultPoolPages`). */
export const DEFAULT_POOL_BYTES = 1024 * 1024;
export const DEFAULT_RUN_BYTES = 256 * 1024;
export const DEFAULT_TURN_BYTES = 4 * 1024 * 1024;

/** The default `poolPages` for a page size, before a shared pool's bound: 1 MiB of pages, at least one. */
export function defaultPoolPages(pageSize: number): number {
  return Math.max(1, Math.floor(DEFAULT_POOL_BYTES / pageSize));
}

/** The default `runBytes` for a page size: 256 KiB, or one page if pages are larger. */
export function defaultRunBytes(pageSize: number): number {
  return Math.max(DEFAULT_RUN_BYTES, pageSize);
}

/** The default `turnBytes` for a page size: 4 MiB, or one page if pages are larger. */
export function defaultTurnBytes(pageSize: number): number {
  return Math.max(DEFAULT_TURN_BYTES, pageSize);
}

/** Fills in and checks the options. @throws OptionError naming the first bad one. */
export function resolveOptions(options: SnapshotOptions | undefined, pageSize: number): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new OptionError('options', 'an object of snapshot options, or nothing', options);
  }
  const poolPages = options.poolPages;
  if (poolPages !== undefined && (!Number.isSafeInteger(poolPages) || poolPages < 0)) {
    throw new OptionError('poolPages', 'an integer from 0 up', poolPages);
  }
  const runBytes = options.runBytes ?? defaultRunBytes(pageSize);
  if (!Number.isSafeInteger(runBytes) || runBytes < pageSize) {
    throw new OptionError('runBytes', `an integer of at least one page (${pageSize})`, runBytes);
  }
  const faultRunBytes = options.faultRunBytes ?? pageSize;
  if (!Number.isSafeInteger(faultRunBytes) || faultRunBytes < pageSize) {
    throw new OptionError('faultRunBytes', `an integer of at least one page (${pageSize})`, faultRunBytes);
  }
  const turnBytes = options.turnBytes ?? defaultTurnBytes(pageSize);
  if (!Number.isSafeInteger(turnBytes) || turnBytes < pageSize) {
    throw new OptionError('turnBytes', `an integer of at least one page (${pageSize})`, turnBytes);
  }
  const write = checkWriteOptions(options, pageSize);
  const incremental = options.incremental ?? false;
  if (typeof incremental !== 'boolean') throw new OptionError('incremental', 'a boolean', incremental);
  const id = options.id;
  if (id !== undefined && !isSnapshotId(id)) {
    throw new OptionError('id', 'a UUID in lowercase hex (8-4-4-4-12 digits), not all zero', id);
  }
  const detail = options.detail ?? false;
  if (typeof detail !== 'boolean') throw new OptionError('detail', 'a boolean', detail);
  const scheduler = resolveScheduler(options.scheduler);
  return {
    strategy: resolveStrategy(options.strategy ?? 'copy'),
    poolPages,
    runPages: Math.floor(runBytes / pageSize),
    faultRunPages: Math.floor(faultRunBytes / pageSize),
    turnPages: Math.floor(turnBytes / pageSize),
    write,
    incremental,
    id,
    detail,
    scheduler,
  };
}

