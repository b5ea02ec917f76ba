import type { BlockInfo } from '../memory/contract';

/** How a page reached storage. */
export type SaveVia = 'bulk' | 'fault' | 'copy';

/** 'full': every page; 'incremental': the pages written since the parent's t0. */
export type SnapshotKind = 'full' | 'incremental';

/** Where a snapshot stands in its chain (docs/FORMAT.md, "Chains"). */
export interface SnapshotIdentity {
  /** This snapshot's id: a UUID, made at random at t0. */
  readonly id: string;
  /** The id of the snapshot whose t0 this one holds the changes since; absent for a full snapshot. */
  readonly parent?: string;
  /** The id of the full snapshot that starts the chain: a full snapshot's own id. */
  readonly root: string;
  /** The place in the chain: 0 for a full snapshot, the parent's link + 1 for an incremental one. */
  readonly link: number;
}

/** What a sink learns at t0. */
export interface SnapshotHeader {
  readonly pageSize: number;
  readonly blocks: readonly BlockInfo[];
  /** t0 on the snapshot's scheduler clock (virtual time in tests and simulations). */
  readonly t0: number;
  /** t0 as wall-clock milliseconds since the epoch. */
  readonly wallTime: number;
  /** Name of the fault strategy. */
  readonly strategy: string;
  /**
   * The per-writer consistent cut, when the host has one: for each writer, in
   * writer order, how many of its writes are in the image (those it made
   * before t0). Non-negative integers. Absent when there is no cut.
   */
  readonly cut?: readonly number[];
  /**
   * The snapshot's id and place in its chain. A snapshot from `snapshot()`
   * always has one; a header without it is a full snapshot whose sink makes
   * up an id.
   */
  readonly identity?: SnapshotIdentity;
}

/** Contiguous pages of one block, handed to a sink as one write. */
export interface PageRun {
  /** Index of the block in `SnapshotHeader.blocks`. */
  readonly block: number;
  /** First page, counted within the block. */
  readonly page: number;
  /** Pages in the run, at least 1. */
  readonly count: number;
  /**
   * `count * pageSize` bytes, or empty for a memory without bytes. Valid until
   * the write's callback runs; a sink that keeps them must copy them.
   */
  readonly data: Uint8Array;
  readonly via: SaveVia;
}

/** Node-style completion callback: called once, with an error or without. */
export type SinkCallback = (error?: Error | null) => void;

/**
 * Write sizes that suit a sink's storage, in bytes: where the pipeline's
 * write size starts (`start`) and how far it may grow (`max`). Options given
 * to `snapshot()` (`minWriteBytes`, `maxWriteBytes`) win over them.
 */
export interface WriteSizeHint {
  readonly start?: number;
  readonly max?: number;
}

/**
 * The sink contract: where a snapshot's pages go. The pipeline never has more
 * than `capacity` writes outstanding; each `done` gives one credit back.
 */
export interface Sink {
  /** Most writes accepted in flight at once; an integer from 1 up. */
  readonly capacity: number;
  /** Write sizes that suit the storage, if the sink knows them (see `WriteSizeHint`). */
  readonly writeSize?: WriteSizeHint;
  /**
   * Bytes of the snapshot stream the sink has made so far (header and
   * records, as stored: zero pages as bits, compressed records as frames),
   * if it makes one. A `ThrottledSink` with `bytes: 'stored'` books these.
   */
  readonly storedBytes?: number;
  /** Called once at t0, before any write. May throw to refuse the snapshot. */
  start(header: SnapshotHeader): void;
  /**
   * Stores one run; calls `done` when it is stored (or failed). May call it
   * synchronously. A `write` that throws counts as a failed write.
   */
  write(run: PageRun, done: SinkCallback): void;
  /**
   * Stores several runs as one write (their records appended in the order
   * given), taking one credit; calls `done` once, when all of them are
   * stored, or with the first error. A sink that has it gets writes that
   * carry faults, copies and bulk pages together; one without it gets one
   * run per `write`. A `writeRuns` that throws counts as a failed write.
   */
  writeRuns?(runs: readonly PageRun[], done: SinkCallback): void;
  /** Called after the last write completed: finish the output, then call `done`. */
  end(done: SinkCallback): void;
  /**
   * The snapshot failed or was cancelled: drop the output. No callback is
   * awaited after this. A sink whose clean-up takes time (closing handles,
   * removing a partial file) returns a promise that settles when it is done;
   * a failed snapshot emits its error only then.
   */
  abort(reason: unknown): void | PromiseLike<void>;
}
