import type { StallSummary } from '../metrics/StallRecorder';

/**
 * What a live restore reports, discriminated on `type`. `started`,
 * `indexed`, `progress` and `done` are always emitted, `loaded` once per read, `fault`
 * only with `detail: true`. Times are on the restore's scheduler clock.
 */
export type RestoreEvent = RestoreStartedEvent | IndexedEvent | RestoreFaultEvent | LoadedEvent | RestoreProgressEvent | RestoreDoneEvent;

/** Every page is marked not loaded and the geometry matches: writers may run from now on. */
export interface RestoreStartedEvent {
  readonly type: 'started';
  readonly at: number;
  /** From subscribe to this event (the header reads), in milliseconds. */
  readonly openMs: number;
  readonly totalPages: number;
  readonly pageSize: number;
}

/**
 * The record table is known (a page index read, or a scan of record
 * headers): from now on a fault's record is read at once. Faults raised
 * before this wait for it.
 */
export interface IndexedEvent {
  readonly type: 'indexed';
  readonly at: number;
  /** Records in the table (of every link of a chain). */
  readonly records: number;
  /** From `started` to this event. */
  readonly tableMs: number;
}

/** A read or write touched a page not loaded yet, and waits for it. */
export interface RestoreFaultEvent {
  readonly type: 'fault';
  readonly block: string;
  /** Page within the block. */
  readonly page: number;
  readonly at: number;
}

/** A read completed and its pages are loaded. */
export interface LoadedEvent {
  readonly type: 'loaded';
  /** Records in the read. */
  readonly records: number;
  /** Pages loaded by it (pages loaded already, or taken from a newer link, are left out). */
  readonly pages: number;
  /** `fault`: the read carried a record a reader or writer waited on; `background` otherwise. */
  readonly via: 'fault' | 'background';
  readonly at: number;
}

/** Emitted once per turn of the load loop and before `done`. */
export interface RestoreProgressEvent {
  readonly type: 'progress';
  readonly loadedPages: number;
  readonly totalPages: number;
  readonly bytesRead: number;
  readonly at: number;
}

/** Every page is loaded and writable. The last event. */
export interface RestoreDoneEvent {
  readonly type: 'done';
  readonly stats: RestoreStats;
}

export interface RestoreStats {
  readonly pageSize: number;
  readonly totalPages: number;
  /** Pages loaded, by the read that loaded them: one that served a fault, or the background pass. */
  readonly loaded: { readonly fault: number; readonly background: number };
  /** Faults raised: one per access (read or write) and page not loaded it touched. */
  readonly faults: number;
  /** Wait per faulted page, from its first fault until it is loaded (in-process and writer threads alike). */
  readonly faultWait: StallSummary;
  /** Reads of the source, and their bytes (record bytes, headers and crcs included). */
  readonly reads: number;
  readonly bytesRead: number;
  /** From subscribe to `started`. */
  readonly openMs: number;
  /** From `started` until the record table was known (a page index read, or a scan of record headers). */
  readonly tableMs: number;
  /** From `started` to `done`. */
  readonly durationMs: number;
}
