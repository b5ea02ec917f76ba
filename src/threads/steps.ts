/**
 * Named steps of the thread protocols, for tests that force an interleaving:
 * a hook called between two steps can hold one thread there (on a shared
 * word, with a timeout) until another thread has reached a step of its own.
 * Without a hook nothing is called; the write barrier's fast path does not
 * look for one.
 */

/** The saver's safe point (`safePoint.ts`), after each of its steps. */
export type SaverStep =
  /** The epoch and the pause are published. */
  | 'raised'
  /** Every writer is counted: paused, or outside `write`. */
  | 'counted'
  /** Every page is protected: t0. */
  | 'protected'
  /** The writers counted as outside are checked (a slip redoes the safe point from `raised`). */
  | 'checked';

/** A writer thread's `write`, its side of a safe point, and its own copy of a page. */
export type WriterStep =
  /** `Seq` says "inside a write" (with `emulateStoreBuffer`, not yet: that store comes at `pages`). */
  | 'entered'
  /** The safe-point word is compared (and, if it changed, acknowledged and waited out). */
  | 'epoch'
  /** Its acknowledgement of an epoch is published, before it looks at the pause. */
  | 'acked'
  /** Between two pages of a write: the first is found writable, the next not looked at yet. */
  | 'page'
  /** Every page the write touches is writable (after faults, if any). */
  | 'pages'
  /** The bytes are set; `Seq` says "outside" right after. */
  | 'applied'
  /** Own copy: a pool slot is claimed. */
  | 'slot'
  /** Own copy: a fault-ring entry is reserved. */
  | 'entry'
  /** Own copy: the page is claimed. */
  | 'claimed'
  /** Own copy: the page is copied into the slot. */
  | 'copied'
  /** Own copy: the copy is reported on the ring; the page is unprotected next. */
  | 'reported'
  /** Blocked on a page (protected, or not loaded): its wake word and the page's state are read; it sleeps next. */
  | 'sleeping';

export type SaverStepHook = (step: SaverStep) => void;
export type WriterStepHook = (step: WriterStep) => void;

/** Test options of `attachMemory`. */
export interface WriterTestOptions {
  /** Called after each step of this writer's protocols. Slows every write. */
  readonly onStep?: WriterStepHook;
  /**
   * Emulates a CPU store buffer: each write's store of `Seq` ("inside") is
   * made after its loads of the safe-point word and the page states, as
   * another core may see it. Only with `onStep`.
   */
  readonly emulateStoreBuffer?: boolean;
}
