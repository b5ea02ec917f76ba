import { CutViolationError } from '../errors';
import { Control, Writer, WriterStatus, epochOf, nextEpoch, pausedWord, runningWord, writerWord } from './layout';
import type { SharedState } from './SharedState';
import type { SaverStepHook } from './steps';

/** How long the saver sleeps between looks at a writer inside a write. */
const POLL_MS = 0.05;

/** Rounds of one safe point (the first and its redos) before it leaves the verdict to `confirmCut`. */
const MAX_ROUNDS = 16;

/** What a safe point found: the cut, the pause, and who was outside `write`. */
export interface SafePoint {
  readonly epoch: number;
  /** Completed writes per writer id at t0: those are in the image, later ones are not. */
  readonly cut: readonly number[];
  /** From the request to the release, in milliseconds. */
  readonly pauseMs: number;
  /** Safe points taken again because a writer slipped past the first one's count. */
  readonly redos: number;
  /** Writers counted as paused because they were outside `write`, to be checked by `confirmCut`. */
  readonly outside: ReadonlyMap<number, number>;
  /** Writers gone while inside a write, with their `Seq` then: that write must not complete before the commit. */
  readonly goneInFlight: ReadonlyMap<number, number>;
}

/**
 * The saver's side of t0 with writer threads. Writers compare the epoch word
 * with a plain load at the start of every `write`, so the protect-all is
 * ordered through this handshake rather than through an atomic per write:
 *
 * 1. Raise: one atomic store publishes the new epoch and the pause together
 *    (`pausedWord`), so no writer can see one without the other.
 * 2. Count: every attached writer is paused (it acknowledged the epoch with
 *    its completed writes) or outside a write (its `Seq` is even: it counts
 *    with `Seq / 2` and is checked in step 4). One inside a write is waited
 *    for; one still inside after `timeoutMs` of waiting for it (a thread
 *    terminated mid-write) is declared gone: its write is not in the cut,
 *    and should it complete after all (a stalled thread), `confirmCut`
 *    fails the snapshot. The saver sleeps while it waits (`Atomics.wait` is
 *    allowed on Node's main thread), so it does not take a CPU from the
 *    writer it waits for.
 * 3. `protectAll()` runs: that instant is t0.
 * 4. Check, before any page is saved and with the pause still raised: a
 *    writer counted as outside may have loaded the old epoch just before
 *    step 1 with its `Seq` store not yet visible (a CPU's store buffer), and
 *    gone on writing. Each such writer must show that it did not: it
 *    acknowledged the epoch with the count it was given, or it has not
 *    started a write. One inside a write it has not acknowledged is waited
 *    for: it acknowledges before setting a byte, or it finishes and so
 *    slipped. A slip makes the whole safe point run again from step 1 (a
 *    redo costs a protect-all; nothing has been saved yet).
 * 5. Release: the running word of the same epoch, and a wake-up.
 *
 * `onStep` is a test hook, called after each step on the saver's thread.
 */
export function safePoint(shared: SharedState, protectAll: () => void, timeoutMs: number, onStep?: SaverStepHook): SafePoint {
  const c = shared.control;
  const start = performance.now();
  let epoch = epochOf(Atomics.load(c, Control.Epoch));
  let counted: Count = { cut: [], outside: new Map(), goneInFlight: new Map() };
  let redos = 0;
  try {
    for (let round = 1; ; round++) {
      // Step 1: raise, waking writers paused by the round before (a redo). An acknowledgement
      // of this epoch left from before the epochs wrapped is not one.
      epoch = nextEpoch(epoch);
      for (let id = 0, n = shared.writerCount; id < n; id++) Atomics.compareExchange(c, writerWord(id, Writer.AckEpoch), epoch, 0);
      Atomics.store(c, Control.Epoch, pausedWord(epoch));
      Atomics.notify(c, Control.Epoch);
      onStep?.('raised');
      // Step 2: every writer paused or outside.
      counted = count(shared, epoch, timeoutMs);
      onStep?.('counted');
      // Step 3: t0.
      protectAll();
      onStep?.('protected');
      // Step 4: nobody counted as outside slipped past the count.
      const slipped = findSlip(shared, epoch, counted.outside, timeoutMs);
      onStep?.('checked');
      if (slipped === undefined || round === MAX_ROUNDS) break;
      redos++;
    }
    // Writers attached since the count pause at their first write: none of their writes is in the image.
    for (let n = shared.writerCount; counted.cut.length < n; ) counted.cut.push(0);
  } finally {
    // Step 5: the release, whatever happened.
    Atomics.store(c, Control.Epoch, runningWord(epoch));
    Atomics.notify(c, Control.Epoch);
  }
  const { cut, outside, goneInFlight } = counted;
  return { epoch, cut, pauseMs: performance.now() - start, redos, outside, goneInFlight };
}

interface Count {
  readonly cut: number[];
  readonly outside: Map<number, number>;
  readonly goneInFlight: Map<number, number>;
}

/** Step 2: each writer's completed writes at the raise of `epoch`. */
function count(shared: SharedState, epoch: number, timeoutMs: number): Count {
  const c = shared.control;
  const cut: number[] = [];
  const outside = new Map<number, number>();
  const goneInFlight = new Map<number, number>();
  for (let id = 0, writers = shared.writerCount; id < writers; id++) {
    if (shared.writer(id, Writer.Status) !== WriterStatus.Attached) {
      const seq = shared.seq(id);
      cut.push(Math.floor(seq / 2));
      // Gone inside a write: still there (watched), or it moved on (completed or left).
      const goneSeq = shared.goneInFlight.get(id);
      if (goneSeq === seq) goneInFlight.set(id, seq);
      else if (goneSeq !== undefined) shared.goneInFlight.delete(id);
      continue;
    }
    // Each writer gets the whole timeout, in each round.
    const start = performance.now();
    for (;;) {
      if (shared.writer(id, Writer.AckEpoch) === epoch) {
        cut.push(shared.ackWrites(id));
        break;
      }
      const seq = shared.seq(id);
      if (seq % 2 === 0) {
        cut.push(seq / 2);
        outside.set(id, seq / 2);
        break;
      }
      if (performance.now() - start > timeoutMs) {
        // Its write is not in the cut; should it complete after all, `confirmCut` fails the
        // snapshot. A redo cannot help, so this is no slip.
        Atomics.store(c, writerWord(id, Writer.Status), WriterStatus.Gone);
        shared.goneInFlight.set(id, seq);
        goneInFlight.set(id, seq);
        cut.push(Math.floor(seq / 2));
        break;
      }
      // Inside a write: sleep briefly rather than spin, so a writer that lost its CPU
      // gets one back. Its acknowledgement wakes us; leaving `write` does not, hence the bound.
      Atomics.wait(c, writerWord(id, Writer.AckEpoch), shared.writer(id, Writer.AckEpoch), POLL_MS);
    }
  }
  return { cut, outside, goneInFlight };
}

/** What a writer counted as outside at `cut` has done since the raise of `epoch`. */
type Since = 'nothing' | 'acknowledged' | 'slipped' | 'inside';

function since(shared: SharedState, id: number, epoch: number, cut: number): Since {
  // `Seq` first, the acknowledgement second: a writer acknowledges before it completes the
  // write, so an acknowledgement missing now was missing when `Seq` was read, and a `Seq`
  // past the cut then means a write completed unacknowledged. (The other order would take
  // an acknowledgement made between the two reads, then a write completed, for a slip.)
  const seq = shared.seq(id);
  if (shared.writer(id, Writer.AckEpoch) === epoch) return shared.ackWrites(id) === cut ? 'acknowledged' : 'slipped';
  if (seq === 2 * cut) return 'nothing';
  // Inside a write it has not acknowledged (it will, before setting a byte, unless it
  // loaded the old epoch), or past it: then it completed a write the count did not see.
  return seq === 2 * cut + 1 ? 'inside' : 'slipped';
}

/**
 * Waits until writer `id` (counted as outside at `cut`) is no longer inside
 * an unacknowledged write, and tells what it did. A writer that stays there
 * past `timeoutMs` counts as slipped: whatever it does next is unknown.
 */
function settle(shared: SharedState, id: number, epoch: number, cut: number, timeoutMs: number): Exclude<Since, 'inside'> {
  const start = performance.now();
  for (;;) {
    const s = since(shared, id, epoch, cut);
    if (s !== 'inside') return s;
    if (performance.now() - start > timeoutMs) return 'slipped';
    Atomics.wait(shared.control, writerWord(id, Writer.AckEpoch), shared.writer(id, Writer.AckEpoch), POLL_MS);
  }
}

/** Step 4: the first writer counted as outside that slipped past the count, if any. */
function findSlip(shared: SharedState, epoch: number, outside: ReadonlyMap<number, number>, timeoutMs: number): number | undefined {
  for (const [id, cut] of outside) {
    if (settle(shared, id, epoch, cut, timeoutMs) === 'slipped') return id;
  }
  return undefined;
}

/**
 * The last line of defence, before the image is committed: each writer
 * counted as outside at the safe point completed no write it did not
 * acknowledge. The check after the protect-all (step 4) already redid the
 * safe point for every slip it could see; what is left is a writer whose
 * stores stayed invisible through that whole check. A writer inside a write
 * it has not acknowledged yet is waited for, never taken for a violation.
 */
export function confirmCut(shared: SharedState, point: SafePoint, timeoutMs: number): CutViolationError | undefined {
  // A writer gone inside a write that has since completed it: its bytes may be in the image.
  for (const [id, seq] of point.goneInFlight) {
    if (shared.seq(id) > seq) return new CutViolationError(id, Math.floor(seq / 2), Math.floor(seq / 2) + 1);
  }
  for (const [id, cut] of point.outside) {
    if (settle(shared, id, point.epoch, cut, timeoutMs) !== 'slipped') continue;
    const acked = shared.writer(id, Writer.AckEpoch) === point.epoch;
    const completed = acked ? shared.ackWrites(id) : Math.floor(shared.seq(id) / 2);
    return new CutViolationError(id, cut, Math.max(completed, cut + 1));
  }
  return undefined;
}
