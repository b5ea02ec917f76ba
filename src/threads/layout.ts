/**
 * The shared control block: one `Int32Array` on a SharedArrayBuffer that the
 * saver (the thread that runs `snapshot()`) and every attached writer thread
 * read and write with `Atomics`. Word offsets are below; each writer owns one
 * slot of `WRITER_WORDS` words from `WRITERS_AT`. Words written often sit on
 * their own 128-byte lines (two cache lines, as CPUs fetch pairs), so a
 * writer's stores never slow down another writer's loads.
 */

/** How many writers can attach to one memory over its life (ids are not reused). */
export const MAX_WRITERS = 256;

/** Global words: the first line is read on every write and written only at safe points and session changes. */
export const Control = {
  /**
   * The safe-point word: the epoch and whether writers must pause, in one
   * word (`pausedWord`, `runningWord`) so that no writer sees one without
   * the other. Changed by the saver at every safe point; writers compare it
   * with a plain load at every write.
   */
  Epoch: 0,
  /** Writers attached so far: the next id. */
  Attached: 2,
  /** The open protection session's number, or 0 with none open. */
  Session: 3,
  /** Pool slots writers may claim in this session (0: writers never copy). */
  PoolSize: 4,
  /** `threadId + 1` of the thread running the open session's snapshot, or 0. */
  SaverThread: 5,
  /** A live restore's state: `LoadWord` (writers read it only on their slow path). */
  Loading: 6,
  /** Pool slots on loan, to the saver or to writers' copies (a line of their own: written per copy). */
  PoolBorrowed: 32,
  /** Where writers start looking for a free pool slot. */
  PoolHint: 33,
  /** Bumped as a fence by whoever wakes waiting writers. */
  Fence: 34,
} as const;

/** Values of `Control.Loading`. */
export const LoadWord = {
  /** No page is absent. */
  None: 0,
  /** A live restore is loading: absent pages will come. */
  Loading: 1,
  /** A live restore was cancelled with pages absent: they never come. */
  Cancelled: 2,
  /** A live restore failed with pages absent: they never come. */
  Failed: 3,
} as const;

export const WRITERS_AT = 64;
export const WRITER_WORDS = 32;

/** Words of one writer's slot, from `WRITERS_AT + id * WRITER_WORDS`. */
export const Writer = {
  /** `WriterStatus`. */
  Status: 0,
  /**
   * Twice its completed writes, plus one while it is inside `write`. Written
   * with plain stores on the fast path; read by the saver at the safe point.
   */
  Seq: 1,
  /** The last epoch the writer acknowledged, and its completed writes then. */
  AckEpoch: 2,
  AckWrites: 3,
  /** The global page its write is blocked on, or -1. */
  WaitPage: 4,
  /** Its futex word: bumped and notified to wake it. */
  Wake: 5,
  /** The high words of `Seq` (its carries past 2^32) and of `AckWrites`. */
  SeqHigh: 6,
  AckWritesHigh: 7,
} as const;

export const WriterStatus = {
  Free: 0,
  Attached: 1,
  Detached: 2,
  /** Did not reach a safe point in time: treated as gone; it may not write again. */
  Gone: 3,
} as const;

export const CONTROL_WORDS = WRITERS_AT + MAX_WRITERS * WRITER_WORDS;

/** Epochs run from 1 to 2^30 - 1 and wrap: a word holds twice the epoch plus the pause bit. */
const EPOCHS = 2 ** 30 - 1;

/** The epoch after `epoch` (0 is the memory's state before its first safe point). */
export function nextEpoch(epoch: number): number {
  return (epoch % EPOCHS) + 1;
}

/** The safe-point word that raises `epoch`: writers that see it acknowledge and pause. */
export function pausedWord(epoch: number): number {
  return epoch * 2 + 1;
}

/** The safe-point word once `epoch`'s pause is released. */
export function runningWord(epoch: number): number {
  return epoch * 2;
}

/** The epoch a safe-point word names. */
export function epochOf(word: number): number {
  return word >>> 1;
}

/** Whether a safe-point word asks writers to pause. */
export function isPaused(word: number): boolean {
  return (word & 1) === 1;
}

/** The word index of field `field` of writer `id`. */
export function writerWord(id: number, field: number): number {
  return WRITERS_AT + id * WRITER_WORDS + field;
}

/** Pool slot states, one `Int32` per slot. */
export const Slot = {
  Free: 0,
  /** Lent by the saver's pool. */
  Lent: 1,
  /** Claimed by a writer for its own copy; the saver adopts it. Marked with the session: `copiedSlot`. */
  Copied: 2,
} as const;

/** Sessions run from 1 to 2^29 - 1 and wrap, so that a slot's mark fits in its word. */
export const SESSIONS = 2 ** 29 - 1;

/** The state of a slot a writer claimed for its own copy in session `session`. */
export function copiedSlot(session: number): number {
  return Slot.Copied | (session << 2);
}

/** Whether a slot's state is a writer's copy (of any session). */
export function isCopiedSlot(state: number): boolean {
  return (state & 3) === Slot.Copied;
}
