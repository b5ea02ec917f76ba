import type { StallSummary } from '../metrics/StallRecorder';
import type { SaveVia, SnapshotIdentity, SnapshotKind } from '../storage/Sink';

/**
 * What a snapshot reports, as a union discriminated on `type`. `started`,
 * `progress` and `done` are always emitted; `fault`, `saved` and `unprotected`
 * only with `detail: true`, one per fault or per run. Times are on the
 * snapshot's scheduler clock.
 */
export type SnapshotEvent = StartedEvent | FaultEvent | SavedEvent | UnprotectedEvent | ProgressEvent | DoneEvent;

/** t0: every page is protected. Emitted synchronously on subscribe. */
export interface StartedEvent {
  readonly type: 'started';
  readonly t0: number;
  readonly wallTime: number;
  /** `full`, or `incremental`: only the pages written since the parent's t0 are protected and saved. */
  readonly kind: SnapshotKind;
  /** The snapshot's id and place in its chain, as its file's header holds them. */
  readonly identity: SnapshotIdentity;
  /** Pages this snapshot saves: every page of the memory, or for an incremental one those written since its parent's t0. */
  readonly totalPages: number;
  /** Pages of the memory. */
  readonly memoryPages: number;
  readonly pageSize: number;
  readonly strategy: string;
  /**
   * Completed writes per writer thread at t0, indexed by writer id: a log of
   * each writer's writes replayed up to its entry gives the image. Empty
   * without writer threads.
   */
  readonly cut: readonly number[];
  /** How long writer threads were paused for t0, in milliseconds (0 without them). */
  readonly t0PauseMs: number;
  /**
   * Times t0 was taken again because a writer thread slipped past the safe
   * point's count (counted, not failed: the pause includes them).
   */
  readonly t0Redos: number;
}

/** A write touched a protected page and waits. */
export interface FaultEvent {
  readonly type: 'fault';
  readonly block: string;
  readonly page: number;
  readonly at: number;
}

/** Pages reached storage: their write completed. */
export interface SavedEvent {
  readonly type: 'saved';
  readonly block: string;
  /** First page, counted within the block. */
  readonly page: number;
  readonly count: number;
  readonly via: SaveVia;
  readonly at: number;
}

/** Pages became writable: after their write (bulk, fault) or at their copy (copy). */
export interface UnprotectedEvent {
  readonly type: 'unprotected';
  readonly block: string;
  readonly page: number;
  readonly count: number;
  readonly via: SaveVia;
  readonly at: number;
}

/** Emitted once per turn of the save loop and before `done`. */
export interface ProgressEvent {
  readonly type: 'progress';
  readonly savedPages: number;
  /** `savedPages` by how the pages reached storage. */
  readonly saved: { readonly bulk: number; readonly fault: number; readonly copy: number };
  readonly totalPages: number;
  readonly bytesWritten: number;
  /** Pool buffers holding copies not yet written. */
  readonly poolInUse: number;
  readonly at: number;
}

/** Every page is saved and unprotected, and the sink is closed. The last event. */
export interface DoneEvent {
  readonly type: 'done';
  readonly stats: SnapshotStats;
}

export interface SnapshotStats {
  readonly strategy: string;
  readonly kind: SnapshotKind;
  /** The snapshot's id and place in its chain; an incremental snapshot taken next names `identity.id` as its parent. */
  readonly identity: SnapshotIdentity;
  readonly pageSize: number;
  /** Pages saved: every page, or for an incremental snapshot those written since its parent's t0. */
  readonly totalPages: number;
  /** Pages of the memory. */
  readonly memoryPages: number;
  /** Pages saved, by how they reached storage; they add up to `totalPages`. */
  readonly saved: { readonly bulk: number; readonly fault: number; readonly copy: number };
  /** Faults raised: one per write and protected page it touched. */
  readonly faults: number;
  /** Writer stall per fault, from the fault to the page's unprotect. */
  readonly stall: StallSummary;
  readonly pool: {
    /** Buffers in the pool (0 for strategies without one). */
    readonly pages: number;
    readonly peakPages: number;
    readonly peakBytes: number;
  };
  /** Writes handed to the sink. */
  readonly writes: number;
  readonly bytesWritten: number;
  readonly t0: number;
  /** How long writer threads were paused for t0, in milliseconds (0 without them). */
  readonly t0PauseMs: number;
  /** Safe points redone for t0, as in `started`. */
  readonly t0Redos: number;
  /** Completed writes per writer thread at t0, as in `started`. */
  readonly cut: readonly number[];
  /** From t0 to the sink's close, in scheduler milliseconds. */
  readonly durationMs: number;
}
