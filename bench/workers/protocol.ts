/** What bench/workers.ts and its writer threads (bench/workers/writer.ts) say to each other. */
import type { MemoryHandle, WriterFaults } from '../../src';

/** Words of the shared `Int32Array` of flags. */
export const Flag = {
  /** Non-zero: end the current phase. */
  Stop: 0,
  /** The number of the snapshot running now, or 0. */
  Snapshot: 1,
  /** Non-zero: stop the world (writers park until it is 0 again). */
  Halt: 2,
  /** Writers parked for the current halt. */
  Halted: 3,
} as const;
export const FLAG_WORDS = 4;

export interface WriterData {
  readonly handle: MemoryHandle;
  readonly flags: SharedArrayBuffer;
  readonly seed: number;
  /** Precomputed random writes, replayed in a circle. */
  readonly writes: number;
}

/** A phase, run synchronously by each writer thread until it replies (or `Flag.Stop` is set). */
export type Command =
  /**
   * Alternating rounds of `writer.write` and of an unchecked loop over the same
   * writes, no snapshot; `near`: the writes folded into the block's first MiB.
   */
  | { readonly type: 'barrier'; readonly rounds: number; readonly near: boolean }
  /** `writer.write` at full speed, a fresh writer, until stopped. */
  | { readonly type: 'write' }
  /** Alternating rounds of `roundWrites` checked and unchecked writes, until stopped; rounds within a snapshot count. */
  | { readonly type: 'barrierDuringSnapshot'; readonly roundWrites: number }
  /** Unchecked writes that park whenever `Flag.Halt` is set, until stopped. */
  | { readonly type: 'stopTheWorld' };

export type Reply =
  | { readonly type: 'ready' }
  /** The phase's loop is running. */
  | { readonly type: 'writing' }
  /** Nanoseconds per call, one entry per round. */
  | {
      readonly type: 'barrier';
      readonly checked: readonly number[];
      readonly unchecked: readonly number[];
      /** The unchecked loop plus one plain load of the page-state byte per write: the floor the barrier is held to. */
      readonly mapLoad: readonly number[];
    }
  | { readonly type: 'wrote'; readonly id: number; readonly writes: number; readonly faults: WriterFaults }
  | {
      readonly type: 'barrierDuringSnapshot';
      readonly checked: readonly number[];
      readonly unchecked: readonly number[];
      readonly faults: WriterFaults;
    }
  /** Milliseconds each halt kept this writer parked, from seeing the flag to running again. */
  | { readonly type: 'stopTheWorld'; readonly pauses: readonly number[] };
