import { OptionError } from '../errors';
import type { WriteSizeHint } from '../storage/Sink';

/** The smallest write by default, and where a write with a waiting fault is cut to: 64 KiB (CRIU's lazy-pages start). */
export const DEFAULT_MIN_WRITE_BYTES = 64 * 1024;
/** The largest write by default when the sink suggests none: 4 MiB (CRIU's lazy-pages top). */
export const DEFAULT_MAX_WRITE_BYTES = 4 * 1024 * 1024;
/** The bulk pass's share of every write by default. */
export const DEFAULT_BULK_SHARE = 0.25;
/** Milliseconds of work in one event-loop turn by default. */
export const DEFAULT_TURN_MS = 4;

/** The write options as given, checked; the sink's hint fills the gaps when the snapshot starts. */
export interface WriteOptions {
  readonly minWriteBytes: number | undefined;
  readonly maxWriteBytes: number | undefined;
  readonly bulkShare: number;
  readonly turnMs: number;
}

/** Checks `minWriteBytes`, `maxWriteBytes`, `bulkShare` and `turnMs`. @throws OptionError naming the first bad one. */
export function checkWriteOptions(
  options: { readonly minWriteBytes?: number; readonly maxWriteBytes?: number; readonly bulkShare?: number; readonly turnMs?: number },
  pageSize: number,
): WriteOptions {
  const { minWriteBytes, maxWriteBytes } = options;
  for (const [name, value] of [['minWriteBytes', minWriteBytes], ['maxWriteBytes', maxWriteBytes]] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < pageSize)) {
      throw new OptionError(name, `an integer of at least one page (${pageSize})`, value);
    }
  }
  if (minWriteBytes !== undefined && maxWriteBytes !== undefined && minWriteBytes > maxWriteBytes) {
    throw new OptionError('minWriteBytes', `at most maxWriteBytes (${maxWriteBytes})`, minWriteBytes);
  }
  const bulkShare = options.bulkShare ?? DEFAULT_BULK_SHARE;
  if (typeof bulkShare !== 'number' || !(bulkShare >= 0 && bulkShare <= 1)) {
    throw new OptionError('bulkShare', 'a number from 0 to 1', bulkShare);
  }
  const turnMs = options.turnMs ?? DEFAULT_TURN_MS;
  if (typeof turnMs !== 'number' || !(turnMs > 0)) {
    throw new OptionError('turnMs', 'a number of milliseconds above 0 (Infinity for no time limit)', turnMs);
  }
  return { minWriteBytes, maxWriteBytes, bulkShare, turnMs };
}

/**
 * A doubling of the write size that takes at least this many times as long
 * per write gains less than 5% of throughput: the storage is bound by its
 * bandwidth, not by a cost per write, and larger writes only make faults wait.
 */
export const GROWTH_LIMIT = 1.9;

/**
 * The pipeline's write size, in pages, following the storage:
 * - it starts at the sink's suggested start (`WriteSizeHint.start`), or at
 *   the smallest write, within [smallest, largest];
 * - it doubles, up to the largest write, while the sink keeps up and no
 *   writer waits: once writes of the current size have filled the sink
 *   (`capacity` of them completed, so the ones in flight ahead of the last
 *   were of its size too), the last took less than `GROWTH_LIMIT` times as
 *   long (from hand-over to completion) as the last such write of half the
 *   size; the doubling happens at the first completion with no fault
 *   waiting. Fewer, larger
 *   writes then spend less of the storage's time on per-write costs (a
 *   seek, a request). Once a doubling took that long or more, the size goes
 *   back to the half and grows no more: the storage is bound by bandwidth
 *   (an ssd with writes in flight, say), and larger writes would only make
 *   a fault wait behind more bytes;
 * - a write made while a fault waits is cut to the smallest write (or to
 *   the fault run, `faultRunBytes`, if that is larger, within the largest
 *   write), so the writer waits for a short write, not a long one. The size it had stays for
 *   the next write made with no fault waiting: a steady stream of faults
 *   cannot hold every write at the smallest size, which would tie the
 *   snapshot's length to the fault rate instead of the storage's bandwidth.
 */
export class WriteSize {
  readonly minPages: number;
  readonly maxPages: number;
  /** The size of a write made while a fault waits. */
  readonly faultPages: number;
  private pages: number;
  /** The size the storage was seen to need no more than. */
  private ceiling: number;
  /** The time, in ms, a full write of each size took from hand-over to completion, once writes of that size filled the sink. */
  private readonly took = new Map<number, number>();
  /** Full writes of the current size completed. */
  private seen = 0;
  /** The current size was seen to keep up: double it at the next completion with no fault waiting. */
  private mayGrow = false;

  constructor(
    options: WriteOptions,
    hint: WriteSizeHint | undefined,
    pageSize: number,
    faultRunPages = 1,
    /** Writes in flight at once: the sink's capacity. */
    private readonly capacity = 1,
  ) {
    const pages = (bytes: number) => Math.max(1, Math.floor(bytes / pageSize));
    const hinted = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined);
    this.maxPages = pages(options.maxWriteBytes ?? Math.max(hinted(hint?.max) ?? DEFAULT_MAX_WRITE_BYTES, options.minWriteBytes ?? 0));
    this.minPages = Math.min(this.maxPages, pages(options.minWriteBytes ?? DEFAULT_MIN_WRITE_BYTES));
    this.pages = Math.min(this.maxPages, Math.max(this.minPages, pages(hinted(hint?.start) ?? 0)));
    this.faultPages = Math.min(this.maxPages, Math.max(this.minPages, faultRunPages));
    this.ceiling = this.maxPages;
  }

  /** The size of the next write: cut while a fault waits, else the current size. */
  next(faultWaits: boolean): number {
    return faultWaits ? this.faultPages : this.pages;
  }

  /**
   * A write of `pages` completed `ms` after its hand-over; `full` when it
   * held all the size it was given. Grows the size while the sink keeps up
   * and no fault waits.
   */
  completed(pages: number, ms: number, full: boolean, faultWaits: boolean): void {
    // Step 1: a full write of the current size, once such writes filled the sink, is the measure.
    if (full && pages === this.pages && ++this.seen >= this.capacity) {
      const half = this.took.get(pages / 2);
      this.took.set(pages, ms);
      // Did the last doubling pay? If not, back to the half, for good.
      if (half !== undefined && half > 0 && ms >= GROWTH_LIMIT * half) {
        this.pages = Math.max(this.minPages, Math.floor(pages / 2));
        this.ceiling = this.pages;
        this.seen = 0;
        this.mayGrow = false;
        return;
      }
      if (this.pages < this.ceiling) this.mayGrow = true;
    }
    // Step 2: grow once no writer waits.
    if (this.mayGrow && !faultWaits) {
      this.pages = Math.min(this.ceiling, this.pages * 2);
      this.seen = 0;
      this.mayGrow = false;
    }
  }

  /** The current size, in pages (what a write gets when no fault waits). */
  get current(): number {
    return this.pages;
  }
}
