/**
 * The memory contract: what the snapshot pipeline needs from a paged memory.
 * `PagedMemory` implements it over SharedArrayBuffers; a memory with page
 * geometry and protection state but no bytes can implement it too.
 */

import type { PageBufferPool } from '../pool/contract';
import type { SnapshotIdentity } from '../storage/Sink';

/** One named block of pages, laid out in a single global page index. */
export interface BlockInfo {
  /** Unique, non-empty name. */
  readonly name: string;
  /** Size in bytes, a multiple of the page size. */
  readonly size: number;
  /** Number of pages, `size / pageSize`. */
  readonly pages: number;
  /** Global index of the block's first page. */
  readonly firstPage: number;
}

/**
 * The state of one page, one byte per page in shared memory. The write
 * barrier's fast path only asks "is it `Writable`?"; its slow path turns a
 * `Clean` page `Writable` and goes on, and waits on the protected states,
 * which the pipeline owns.
 */
export const PageState = {
  /**
   * Not protected, and written since the t0 of the memory's last committed
   * snapshot (or no snapshot committed yet): the next incremental snapshot
   * holds it.
   */
  Writable: 0,
  /** Protected since t0 and not yet claimed by anyone. */
  Protected: 1,
  /** Protected and claimed: its save is under way, no one else may save it. */
  Claimed: 2,
  /** Protected, with a fault queued for it: the next credit goes to it. */
  Queued: 3,
  /**
   * Not protected, and not written since the t0 of the last committed
   * snapshot, which holds its bytes: a saved page is unprotected to this. The
   * first write to it makes it `Writable` (a writer thread with one
   * compare-and-exchange when its fast path misses, the in-process barrier
   * with a plain store), the way dirty logging write-protects clean pages;
   * no fault is raised.
   */
  Clean: 4,
  /**
   * Not loaded yet: a live restore (`restoreLive`) marked it at its start and
   * has not copied its bytes in. Reads and writes wait for it (an in-process
   * `read`, which cannot wait, throws `PageNotLoadedError`); the load makes it
   * `Writable`. Only the loading thread moves a page out of this state.
   */
  Absent: 5,
} as const;
export type PageState = (typeof PageState)[keyof typeof PageState];

/** Whether a page in `state` is write-protected by a snapshot (writers wait on it). */
export function isProtected(state: number): boolean {
  return state === PageState.Protected || state === PageState.Claimed || state === PageState.Queued;
}

/** Whether a page in `state` makes a write wait: protected by a snapshot, or not loaded yet. */
export function blocksWrites(state: number): boolean {
  return isProtected(state) || state === PageState.Absent;
}

/** Called by the write barrier, once per write and protected page it touches. */
export type FaultHandler = (page: number) => void;

/** What a snapshot passes to `protect` besides its fault handler. */
export interface ProtectOptions {
  /**
   * The snapshot's page-buffer pool, from `createPool`: writer threads may
   * copy pages they fault on into it themselves.
   */
  readonly pool?: PageBufferPool;
  /**
   * A writer thread copied `page` into `buffer` (a buffer of `pool`, now on
   * loan to the snapshot) and the page is writable again. Counts as a fault.
   */
  readonly onCopied?: (page: number, buffer: Uint8Array) => void;
  /**
   * Protect only the pages written since the t0 of the memory's last
   * committed snapshot (`ProtectionSession.commit`), when the memory tracks
   * them and one was committed; otherwise every page. The session's
   * `parent` says which it did.
   */
  readonly incremental?: boolean;
}

/** A memory that can be snapshotted. */
export interface SnapshotMemory {
  readonly pageSize: number;
  readonly blocks: readonly BlockInfo[];
  /** Pages over all blocks. */
  readonly pageCount: number;
  /**
   * Write-protects every page, synchronously (that instant is t0), and routes
   * faults to `onFault` until the session is closed.
   * @throws SnapshotInProgressError when a session is already open.
   */
  protect(onFault: FaultHandler, options?: ProtectOptions): ProtectionSession;
  /**
   * A pool of `pages` buffers for one snapshot, when the memory keeps its own
   * (a memory shared with writer threads does, so they can copy into it).
   * Called before `protect`; without one the snapshot allocates a `PagePool`.
   */
  createPool?(pages: number): PageBufferPool | undefined;
  /**
   * The most pages `createPool` takes, when the memory keeps its own pool
   * (a shared memory: its `share({ poolBytes })`); absent otherwise.
   */
  readonly poolCapacity?: number;
}

/** One snapshot's hold on a memory: from t0 until `close()`. */
export interface ProtectionSession {
  /** Page states indexed by global page; the pipeline claims pages by writing here. */
  readonly states: Uint8Array;
  /**
   * Pages protected at t0, which the snapshot must save: every page, or for
   * an incremental one those written since its parent's t0. Absent: every page.
   */
  readonly pages?: number;
  /**
   * The committed snapshot whose t0 this one holds the changes since: set
   * only when the session is incremental. Absent: a full snapshot.
   */
  readonly parent?: SnapshotIdentity;
  /**
   * The bytes of `count` pages from global page `first`, all in one block,
   * without a copy. Valid to read while those pages stay protected. A memory
   * without bytes returns an empty array.
   */
  view(first: number, count: number): Uint8Array;
  /** Copies one page into `into` (at least a page long). */
  copy(page: number, into: Uint8Array): void;
  /** Makes `count` pages from `first` writable and releases writers waiting on them. */
  unprotect(first: number, count: number): void;
  /**
   * The image is committed as `identity`: the pages it saved stay clean, and
   * the next incremental snapshot holds the changes since this one's t0.
   * Without it, `close()` leaves every page of this session to the next
   * snapshot (a failed or cancelled one loses nothing). Call before `close()`.
   */
  commit?(identity: SnapshotIdentity): void;
  /** Unprotects every page, releases every waiting writer and ends the session. Idempotent. */
  close(): void;
  /**
   * Completed writes per writer thread at t0, indexed by writer id: those
   * writes are in the image, later ones are not. Empty without writer threads.
   */
  readonly cut?: readonly number[];
  /** How long writer threads were paused for t0, in milliseconds. */
  readonly t0PauseMs?: number;
  /** Safe points taken again for t0 because a writer thread slipped past the count. */
  readonly t0Redos?: number;
  /** Before the image is committed: an error when a writer thread broke the cut. */
  confirmCut?(): Error | undefined;
}

/**
 * One live restore's hold on a memory (`PagedMemory.beginLoad`): every page
 * is `Absent` from the start until the load copies its bytes in.
 */
export interface LoadSession {
  /** Page states indexed by global page. */
  readonly states: Uint8Array;
  /** The bytes of `count` pages from global page `first`, all in one block, to copy a load into. */
  view(first: number, count: number): Uint8Array;
  /**
   * The bytes of `count` pages from `first` are in: the pages become
   * `Writable` (written: the next snapshot holds them) and the reads and
   * writes waiting on them go on. Every page of the range must be `Absent`.
   */
  loaded(first: number, count: number): void;
  /**
   * Ends the session. Without `error` every page must be loaded. With one
   * (a cancel: `LoadAbortedError` reason `cancelled`, or the load's failure),
   * pages still absent stay so, and every read or write waiting on one, now
   * or later, fails with a `LoadAbortedError`. Idempotent.
   */
  close(error?: { readonly reason: 'cancelled' | 'failed'; readonly cause?: unknown }): void;
}
