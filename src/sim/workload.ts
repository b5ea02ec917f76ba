import { OptionError } from '../errors';
import type { Uniform } from './random';
import { ZipfSampler } from './zipf';

/** How a write picks its page within its set (the hot set or the rest). */
export type PageDistribution = 'uniform' | 'zipf';

/**
 * A stochastic write workload: `writers` closed-loop writers (vCPUs, request
 * handlers), each making one single-page write at a time. Between two writes
 * a writer thinks for an exponential time (Poisson arrivals while it runs);
 * a write to a protected page blocks it until the page is unprotected.
 */
export interface WorkloadOptions {
  /**
   * Writers running at once.
   * @default 2
   */
  readonly writers?: number;
  /**
   * Writes per second of each writer while it is not blocked: its think time
   * between writes is exponential with a mean of `1000 / writesPerSecond` ms.
   * @default 1000
   */
  readonly writesPerSecond?: number;
  /**
   * Bytes of the hot set: pages, scattered over the memory, that take
   * `hotShare` of the writes. 0 for no hot set. At most the memory's size;
   * rounded down to whole pages.
   * @default 0
   */
  readonly hotSetBytes?: number;
  /**
   * Share of the writes that go to the hot set, from 0 to 1 (with a hot set).
   * @default 0.9
   */
  readonly hotShare?: number;
  /**
   * How a write picks its page within its set: `'uniform'`, or `'zipf'` (rank
   * k of the set taken with probability ∝ 1/k^zipfExponent).
   * @default 'uniform'
   */
  readonly distribution?: PageDistribution;
  /**
   * The exponent of the zipf distribution, above 0.
   * @default 1
   */
  readonly zipfExponent?: number;
}

/** A workload with its defaults filled in and checked. */
export type ResolvedWorkload = Required<WorkloadOptions>;

export const DEFAULT_WORKLOAD: ResolvedWorkload = {
  writers: 2,
  writesPerSecond: 1000,
  hotSetBytes: 0,
  hotShare: 0.9,
  distribution: 'uniform',
  zipfExponent: 1,
};

/** Fills in defaults and checks each option; option names are prefixed with `prefix`. */
export function resolveWorkload(options: WorkloadOptions = {}, memoryBytes: number, prefix = 'workload.'): ResolvedWorkload {
  const w = { ...DEFAULT_WORKLOAD, ...stripUndefined(options) };
  if (!Number.isSafeInteger(w.writers) || w.writers < 0) {
    throw new OptionError(`${prefix}writers`, 'an integer from 0 up', w.writers);
  }
  if (typeof w.writesPerSecond !== 'number' || !(w.writesPerSecond > 0) || !Number.isFinite(w.writesPerSecond)) {
    throw new OptionError(`${prefix}writesPerSecond`, 'a finite number above 0', w.writesPerSecond);
  }
  if (!Number.isSafeInteger(w.hotSetBytes) || w.hotSetBytes < 0 || w.hotSetBytes > memoryBytes) {
    throw new OptionError(`${prefix}hotSetBytes`, `an integer from 0 to the memory's size (${memoryBytes})`, w.hotSetBytes);
  }
  if (typeof w.hotShare !== 'number' || !(w.hotShare >= 0 && w.hotShare <= 1)) {
    throw new OptionError(`${prefix}hotShare`, 'a number from 0 to 1', w.hotShare);
  }
  if (w.distribution !== 'uniform' && w.distribution !== 'zipf') {
    throw new OptionError(`${prefix}distribution`, "'uniform' or 'zipf'", w.distribution);
  }
  if (typeof w.zipfExponent !== 'number' || !(w.zipfExponent > 0) || !Number.isFinite(w.zipfExponent)) {
    throw new OptionError(`${prefix}zipfExponent`, 'a finite number above 0', w.zipfExponent);
  }
  return w;
}

/** Draws a rank from 0 to n - 1. */
type RankSampler = (random: Uniform) => number;

function rankSampler(n: number, workload: ResolvedWorkload): RankSampler {
  if (workload.distribution === 'uniform') return (random) => Math.floor(random.next() * n);
  const zipf = new ZipfSampler(n, workload.zipfExponent);
  return (random) => zipf.sample(random) - 1;
}

/** Page counts for which multiplier × rank + offset stays below 2^53. */
const SMALL = 2 ** 26;

/**
 * Picks the page of each write, in O(1) time and memory whatever the page
 * count. Pages are ranked: ranks below `hotPages` are the hot set, the rest
 * the cold set; a write picks its set (hot with probability `hotShare`), then
 * a rank within it by the distribution. Ranks map to pages through a fixed
 * affine permutation (rank × a + b mod pageCount, a coprime to pageCount), so
 * the hot set, and zipf's hottest pages, are scattered over the memory
 * instead of sitting where the bulk pass starts.
 */
export class PageChooser {
  readonly hotPages: number;
  private readonly hotShare: number;
  private readonly hot: RankSampler | undefined;
  private readonly cold: RankSampler | undefined;
  /** The permutation's multiplier, coprime to the page count. */
  readonly multiplier: number;

  constructor(
    readonly pageCount: number,
    pageSize: number,
    workload: ResolvedWorkload,
    /** The permutation's offset, from 0 to pageCount - 1. */
    private readonly offset: number,
  ) {
    this.hotPages = Math.min(pageCount, Math.floor(workload.hotSetBytes / pageSize));
    const coldPages = pageCount - this.hotPages;
    // Step 1: a set that is empty is never picked.
    this.hotShare = this.hotPages === 0 ? 0 : coldPages === 0 ? 1 : workload.hotShare;
    this.hot = this.hotPages > 0 ? rankSampler(this.hotPages, workload) : undefined;
    this.cold = coldPages > 0 ? rankSampler(coldPages, workload) : undefined;
    // Step 2: a multiplier near pageCount / φ spreads neighbouring ranks far apart.
    this.multiplier = coprimeNear(Math.floor(pageCount * 0.6180339887498949), pageCount);
  }

  /** The global page of the next write. */
  pick(random: Uniform): number {
    const rank =
      this.hot !== undefined && (this.hotShare === 1 || random.next() < this.hotShare)
        ? this.hot(random)
        : this.hotPages + (this.cold as RankSampler)(random);
    return this.pageOf(rank);
  }

  /** The page of rank `rank`: a bijection of 0..pageCount - 1. */
  pageOf(rank: number): number {
    const n = this.pageCount;
    // One modulo while the product stays exact (2^53), as it does up to 2^26 pages.
    if (n <= SMALL) return (this.multiplier * rank + this.offset) % n;
    return (mulMod(this.multiplier, rank, n) + this.offset) % n;
  }
}

/** The first integer from `start` (at least 1) that is coprime to `n`; below `n` when `start` is. */
function coprimeNear(start: number, n: number): number {
  let a = Math.max(1, start);
  while (gcd(a, n) !== 1) a++;
  return a;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** a × b mod n without losing precision, for a, b < n ≤ 2^32. */
function mulMod(a: number, b: number, n: number): number {
  const high = Math.floor(b / 65536);
  const low = b % 65536;
  return (((a * high) % n) * 65536 + a * low) % n;
}

function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
