import { CutViolationError } from '../errors';
import { Control, Writer, WriterStatus, writerWord } from './layout';
import type { SharedState } from './SharedState';

/** How long the saver sleeps between looks at a writer inside a write. */
const POLL_MS = 0.05;

/** What a safe point found: the cut, the pause, and who was outside `write`. */
export interface SafePoint {
  readonly epoch: number;
  /** Completed writes per writer id at t0: those are in the image, later ones are not. */
  readonly cut: readonly number[];
  /** From the request to the release, in milliseconds. */
  readonly pauseMs: number;
  /** Writers counted as paused because they were outside `write`, to be checked by `confirmCut`. */
  readonly outside: ReadonlyMap<number, number>;
}

/**
 * The saver's side of t0 with writer threads. Writers check the epoch with a
 * plain load at the start of every `write`, so the protect-all is ordered
 * through this handshake rather than through an atomic load per write:
 *
 * 1. Ask: bump the epoch and raise the pause flag.
 * 2. Wait for every attached writer to be paused or outside a write. A writer
 *    inside a write acknowledges at its next `write` and sleeps; one outside
 *    `write` counts as paused (it will pause at its next `write` if the pause
 *    is still on, or see the new page states after it). One still inside a
 *    write after `timeoutMs` (a thread terminated mid-write) is declared gone.
 *    The saver sleeps while it waits (`Atomics.wait` is allowed on Node's main
 *    thread), so it does not take a CPU from the writer it waits for.
 * 3. `protectAll()` runs: that instant is t0. The cut is each writer's
 *    completed writes.
 * 4. Release the paused writers.
 */
export function safePoint(shared: SharedState, protectAll: () => void, timeoutMs: number): SafePoint {
  const c = shared.control;
  const start = performance.now();
  // Step 1: the request.
  const epoch = Atomics.add(c, Control.Epoch, 1) + 1;
  Atomics.store(c, Control.Pause, epoch);
  // Step 2: every writer paused or outside.
  const writers = shared.writerCount;
  const cut: number[] = [];
  const outside = new Map<number, number>();
  for (let id = 0; id < writers; id++) {
    const status = shared.writer(id, Writer.Status);
    if (status !== WriterStatus.Attached) {
      cut.push(Math.floor(shared.seq(id) / 2));
      continue;
    }
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
        Atomics.store(c, writerWord(id, Writer.Status), WriterStatus.Gone);
        cut.push(Math.floor(seq / 2));
        outside.set(id, Math.floor(seq / 2));
        break;
      }
      // Inside a write: sleep briefly rather than spin, so a writer that lost its CPU
      // gets one back. Its acknowledgement wakes us; leaving `write` does not, hence the bound.
      Atomics.wait(c, writerWord(id, Writer.AckEpoch), shared.writer(id, Writer.AckEpoch), POLL_MS);
    }
  }
  // Step 3: t0.
  try {
    protectAll();
  } finally {
    // Step 4: the release, whatever happened.
    Atomics.store(c, Control.Pause, 0);
    Atomics.notify(c, Control.Pause);
  }
  return { epoch, cut, pauseMs: performance.now() - start, outside };
}

/**
 * Checks, before the image is committed, that each writer counted as outside
 * `write` at the safe point completed no write it did not see: its writes
 * when it first saw the epoch (or now, if it has not) equal its cut. One that
 * has not seen the epoch and is inside a write may have set its bytes already
 * (unless it is waiting for a page, before setting any): that fails too.
 */
export function confirmCut(shared: SharedState, point: SafePoint): CutViolationError | undefined {
  for (const [id, cut] of point.outside) {
    if (shared.writer(id, Writer.AckEpoch) === point.epoch) {
      const completed = shared.ackWrites(id);
      if (completed !== cut) return new CutViolationError(id, cut, completed);
      continue;
    }
    const seq = shared.seq(id);
    const completed = Math.floor(seq / 2);
    const unseenWrite = seq % 2 === 1 && shared.writer(id, Writer.WaitPage) === -1;
    if (completed !== cut || unseenWrite) return new CutViolationError(id, cut, unseenWrite ? completed + 1 : completed);
  }
  return undefined;
}
