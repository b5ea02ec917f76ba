import { OptionError, SnapshotInProgressError } from '../errors';
import { PageState, type BlockInfo, type FaultHandler, type ProtectionSession, type SnapshotMemory } from '../memory/contract';
import { DEFAULT_PAGE_SIZE, checkPageSize, layoutBlocks, type BlockSpec } from '../memory/geometry';

export interface GeometryMemoryOptions {
  /**
   * Bytes per page: a power of two from 512 B to 2 MiB.
   * @default 4096
   */
  readonly pageSize?: number;
  /** The named blocks, each a positive multiple of the page size. */
  readonly blocks: readonly BlockSpec[];
}

/** Runs once, when the page a blocked write waits for is unprotected. */
export type ReleaseCallback = () => void;

const EMPTY = new Uint8Array(0);

/** Runs the callbacks of the writes waiting on one page, in arrival order. */
function release(waiting: ReleaseCallback | ReleaseCallback[]): void {
  if (typeof waiting === 'function') waiting();
  else for (const callback of waiting) callback();
}

/**
 * A memory with page geometry and protection state but no bytes: what the
 * simulator snapshots. It keeps one state byte per page (a plain
 * `Uint8Array`), so its size grows with the page count, not with the bytes it
 * stands for; `view` returns an empty array and `copy` copies nothing, but
 * under `simulate` it takes the time a real copy would (`copyBandwidth`).
 *
 * Its write barrier, `touch`, takes a callback instead of returning a promise,
 * so a writer blocked on a protected page resumes in virtual time, at the
 * instant the pipeline unprotects the page.
 *
 * @example
 * const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: 64 * 2 ** 30 }] });
 * if (memory.touch(page, resume)) resume(); // else `resume` runs at the unprotect
 */
export class GeometryMemory implements SnapshotMemory {
  readonly pageSize: number;
  readonly blocks: readonly BlockInfo[];
  readonly pageCount: number;
  /** Page states, indexed by global page (see `PageState`). */
  readonly states: Uint8Array;

  /**
   * The writes waiting on each protected page, in arrival order: one callback,
   * or a list when several wait (a page faulted on once needs no list).
   */
  private readonly waiters = new Map<number, ReleaseCallback | ReleaseCallback[]>();
  private session: GeometrySession | null = null;
  /** @internal What a page copy costs the simulation: set by `simulate` for its run. */
  copyCost: (() => void) | undefined;

  constructor(options: GeometryMemoryOptions) {
    this.pageSize = checkPageSize(options?.pageSize ?? DEFAULT_PAGE_SIZE);
    this.blocks = layoutBlocks(options?.blocks, this.pageSize);
    const last = this.blocks[this.blocks.length - 1] as BlockInfo;
    this.pageCount = last.firstPage + last.pages;
    this.states = new Uint8Array(this.pageCount);
  }

  /** Whether a snapshot holds this memory now. */
  get snapshotting(): boolean {
    return this.session !== null;
  }

  /** Writes waiting for a page to be unprotected. */
  get waiting(): number {
    let n = 0;
    for (const waiting of this.waiters.values()) n += typeof waiting === 'function' ? 1 : waiting.length;
    return n;
  }

  /**
   * The write barrier for a write to global page `page`. When the page is
   * writable the write happens now and `touch` returns `true` (`onReleased` is
   * not called). Otherwise the write waits: it faults, `touch` returns `false`,
   * and `onReleased` runs once when the page is unprotected — possibly before
   * `touch` returns, when serving the fault unprotects the page at once (a copy).
   * @throws OptionError when `page` is not a page of this memory.
   */
  touch(page: number, onReleased: ReleaseCallback): boolean {
    if (!(page >= 0 && page < this.pageCount) || !Number.isInteger(page)) {
      throw new OptionError('page', `an integer from 0 to ${this.pageCount - 1}`, page);
    }
    if (this.states[page] === PageState.Writable) return true;
    // Register before raising the fault: serving it may unprotect the page synchronously.
    const waiting = this.waiters.get(page);
    if (waiting === undefined) this.waiters.set(page, onReleased);
    else if (typeof waiting === 'function') this.waiters.set(page, [waiting, onReleased]);
    else waiting.push(onReleased);
    this.session?.onFault(page);
    return false;
  }

  protect(onFault: FaultHandler): ProtectionSession {
    if (this.session !== null) throw new SnapshotInProgressError();
    const session = new GeometrySession(this, onFault);
    this.session = session;
    this.states.fill(PageState.Protected);
    return session;
  }

  /** @internal Makes pages writable and releases the writes waiting on them. */
  unprotectPages(first: number, count: number): void {
    const end = first + count;
    // One page (a fault or a copy) by assignment: `fill` costs a call for it.
    if (count === 1) this.states[first] = PageState.Writable;
    else this.states.fill(PageState.Writable, first, end);
    if (this.waiters.size === 0) return;
    // Step 1: one page, the common case for faults and copies: no lists to build.
    if (count === 1) {
      const waiting = this.waiters.get(first);
      if (waiting === undefined) return;
      this.waiters.delete(first);
      release(waiting);
      return;
    }
    // Step 2: collect the waiting writes of the run. Few writes wait at once, so
    // for a long run walk the waiters rather than the pages.
    const released: [number, ReleaseCallback | ReleaseCallback[]][] = [];
    if (count > this.waiters.size) {
      for (const entry of this.waiters) if (entry[0] >= first && entry[0] < end) released.push(entry);
      released.sort((a, b) => a[0] - b[0]);
    } else {
      for (let p = first; p < end; p++) {
        const waiting = this.waiters.get(p);
        if (waiting !== undefined) released.push([p, waiting]);
      }
    }
    // Step 3: release them, page by page and in arrival order within a page.
    for (const [page] of released) this.waiters.delete(page);
    for (const [, waiting] of released) release(waiting);
  }

  /** @internal */
  endSession(session: GeometrySession): void {
    if (this.session !== session) return;
    this.session = null;
    this.unprotectPages(0, this.pageCount);
  }
}

/** The protection session `GeometryMemory.protect` hands out. */
class GeometrySession implements ProtectionSession {
  readonly states: Uint8Array;
  private closed = false;

  constructor(
    private readonly memory: GeometryMemory,
    readonly onFault: FaultHandler,
  ) {
    this.states = memory.states;
  }

  /** No bytes: an empty array, as the contract allows. */
  view(): Uint8Array {
    return EMPTY;
  }

  /** No bytes to copy; the simulation is charged the copy's time (`simulate`'s `copyBandwidth`). */
  copy(): void {
    this.memory.copyCost?.();
  }

  unprotect(first: number, count: number): void {
    if (!this.closed) this.memory.unprotectPages(first, count);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.memory.endSession(this);
  }
}
