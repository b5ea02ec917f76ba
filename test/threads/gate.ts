/**
 * A gate on shared memory that holds a writer thread at a named step of its
 * protocols until the saver reaches a named step of its own (or a timeout
 * runs out), so a test can force one interleaving of the two threads.
 */
import type { SaverStep, WriterStep } from '../../src/threads/steps';

export const WRITER_STEPS: readonly WriterStep[] = ['entered', 'epoch', 'acked', 'page', 'pages', 'applied', 'slot', 'entry', 'claimed', 'copied', 'reported', 'sleeping'];

/** Words of the gate's `Int32Array`. */
export const Gate = {
  /** The writer step to hold at next (its index + 1), or 0: set by the test, cleared by the writer. */
  Arm: 0,
  /**
   * The step the writer is held at (index + 1), or 0: the writer sets it, and whoever
   * clears it first with a compare-and-exchange ends the hold (the saver, or the
   * writer's own timeout), so a release can never outlive its hold.
   */
  At: 1,
  /** Bumped at every step the writer takes. */
  Progress: 3,
  /** Set to make the writer stop writing. */
  Stop: 4,
  /** The writer's completed writes, kept up to date. */
  Writes: 5,
  /** How long a held writer waits for the release, in ms. */
  HoldMs: 6,
  /** The last step the writer took (index + 1). */
  Last: 7,
  /** Bumped when the writer completes a write (`applied`) or acknowledges an epoch (`acked`). */
  Settled: 8,
} as const;

export const GATE_WORDS = 9;

export function newGate(holdMs: number): Int32Array {
  const gate = new Int32Array(new SharedArrayBuffer(GATE_WORDS * 4));
  gate[Gate.HoldMs] = holdMs;
  return gate;
}

/** The writer's side: the hook to give `attachMemory`. */
export function writerHook(gate: Int32Array): (step: WriterStep) => void {
  return (step) => {
    const code = WRITER_STEPS.indexOf(step) + 1;
    Atomics.store(gate, Gate.Last, code);
    if (step === 'applied' || step === 'acked') Atomics.add(gate, Gate.Settled, 1);
    Atomics.add(gate, Gate.Progress, 1);
    Atomics.notify(gate, Gate.Progress);
    if (Atomics.load(gate, Gate.Arm) !== code || Atomics.compareExchange(gate, Gate.Arm, code, 0) !== code) return;
    Atomics.store(gate, Gate.At, code);
    Atomics.wait(gate, Gate.At, code, Atomics.load(gate, Gate.HoldMs));
    Atomics.compareExchange(gate, Gate.At, code, 0);
  };
}

/**
 * The saver's side: a safe-point hook that, at step `at`, lets a held writer
 * go on and waits until it has finished that write or acknowledged an epoch
 * (and so paused), so those steps fall between `at` and the saver's next.
 */
export function saverHook(gate: Int32Array, at: SaverStep, settleMs = 5_000): (step: SaverStep) => void {
  return (step) => {
    const held = Atomics.load(gate, Gate.At);
    if (step !== at || held === 0) return;
    const settled = Atomics.load(gate, Gate.Settled);
    if (Atomics.compareExchange(gate, Gate.At, held, 0) !== held) return;
    Atomics.notify(gate, Gate.At);
    const start = performance.now();
    for (;;) {
      const progress = Atomics.load(gate, Gate.Progress);
      if (Atomics.load(gate, Gate.Settled) !== settled) return;
      const left = settleMs - (performance.now() - start);
      if (left <= 0) throw new Error(`the released writer did not finish its write in ${settleMs} ms`);
      Atomics.wait(gate, Gate.Progress, progress, left);
    }
  };
}

/** Arms the gate at `step` and resolves once the writer is held there. */
export async function holdWriterAt(gate: Int32Array, step: WriterStep, ms = 10_000): Promise<void> {
  const code = WRITER_STEPS.indexOf(step) + 1;
  Atomics.store(gate, Gate.At, 0);
  Atomics.store(gate, Gate.Arm, code);
  const start = Date.now();
  while (Atomics.load(gate, Gate.At) !== code) {
    if (Date.now() - start > ms) throw new Error(`writer never reached step ${step}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Lets a held writer go on now, if it is still held. */
export function releaseWriter(gate: Int32Array): void {
  const held = Atomics.load(gate, Gate.At);
  if (held !== 0 && Atomics.compareExchange(gate, Gate.At, held, 0) === held) Atomics.notify(gate, Gate.At);
}
