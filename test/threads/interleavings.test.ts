import { isProtected } from '../../src/memory/contract';
import type { Worker } from 'node:worker_threads';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CutViolationError, MemorySink, PagedMemory, PageState, snapshot, ThrottledSink, type DoneEvent, type SnapshotEvent, type StartedEvent } from '../../src';
import type { SaverStep, WriterStep } from '../../src/threads/steps';
import { nextMessage, startWorker } from '../support/workers';
import { Gate, holdWriterAt, newGate, releaseWriter, saverHook } from './gate';
import { ChainSink } from '../support/ChainSink';
import { until } from './support';
import { LogReplay, logBlocks, type LogShape } from './workers/writeLog';

const WRITER = require.resolve('./workers/steppedWrites.ts');

/**
 * Every ordering of one writer's write against the saver's safe point,
 * forced: the writer is held at a step of a write begun before t0 and let go
 * at a step of the safe point; the saver waits there until that write is
 * done or the writer has acknowledged the epoch (and so paused). An ordering
 * the protocol rules out (the saver cannot pass its count while a write it
 * can see is under way) ends in the writer's hold timing out, which is an
 * ordering too. Whatever happens, a snapshot that says `done` holds exactly
 * the writer's log up to its cut.
 *
 * With `emulateStoreBuffer` the writer makes its "inside a write" store after
 * its loads, as another core may see a CPU's stores: the window the check
 * after the protect-all exists for. A write slipped past the count is caught
 * there and t0 is taken again (a redo), or, if its stores stay invisible
 * through the whole check, caught before the commit (`CutViolationError`).
 */
/** `page` is between two pages of a write that spans more than one: its first page was found writable. */
const WRITE_STEPS: readonly WriterStep[] = ['entered', 'epoch', 'page', 'pages', 'applied'];
const SAVER_STEPS: readonly SaverStep[] = ['raised', 'counted', 'protected', 'checked'];

type Outcome = 'clean' | 'redo' | 'violation';

/** What each emulated reordering must give; every other pair is clean. */
const REORDERED: Partial<Record<WriterStep, Partial<Record<SaverStep, Outcome>>>> = {
  // It loaded the old epoch: let go before the protect-all, it finds its pages writable and slips.
  epoch: { counted: 'redo' },
  // Its first page was found writable before t0; let go after the protect-all, it meets a
  // protected page, acknowledges, and looks at every page again: the first one too.
  page: { counted: 'redo' },
  // It loaded the old epoch and found its pages writable: its bytes land after the count.
  pages: { counted: 'redo', protected: 'redo', checked: 'violation' },
};

const shape: LogShape = { seed: 7, writers: 1, pageSize: 4096, sharedPages: 32, ownPages: 32 };

/**
 * Incremental snapshots protect only the pages written since the last
 * committed snapshot; a write marks a clean page written on the barrier's
 * slow path, with one compare-and-exchange, as it passes an unprotected
 * page. Without reordering every case is clean, as for full snapshots. With
 * it, a slipped write that meets only clean pages meets no protected page
 * to make it acknowledge: its bytes land after t0 outside the snapshot, and
 * the check redoes t0, or the end check fails the snapshot if its stores
 * stay invisible (`CutViolationError`: the image would be right, as none of
 * its pages is in it, but the end check cannot tell). Which of those happens
 * depends on whether its pages are clean, so only the invariant is asserted
 * there: a snapshot that says `done` holds the cut. Each snapshot is laid
 * over the chain's image, which must be the cut.
 */
describe.each([
  [false, false],
  [true, false],
  [false, true],
  [true, true],
])('a write against the safe point, store buffer emulated: %s, incremental: %s', (emulateStoreBuffer, incremental) => {
  let memory: PagedMemory;
  let gate: Int32Array;
  let worker: Worker;
  let replay: LogReplay;
  const chain = new ChainSink();

  beforeAll(async () => {
    memory = new PagedMemory({ blocks: logBlocks(shape) });
    gate = newGate(50);
    worker = startWorker(WRITER, { handle: memory.share(), shape, gate: gate.buffer, stepped: true, emulateStoreBuffer, burst: 16, pauseUs: 20 });
    await nextMessage(worker);
    await until(() => Atomics.load(gate, Gate.Writes) >= 256);
    replay = new LogReplay(shape);
  });

  afterAll(async () => {
    Atomics.store(gate, Gate.Stop, 1);
    await worker.terminate();
  });

  for (const strategy of ['queue', 'copy'] as const) {
    for (const writerStep of WRITE_STEPS) {
      for (const saverStep of SAVER_STEPS) {
        const expected: Outcome = emulateStoreBuffer ? (REORDERED[writerStep]?.[saverStep] ?? 'clean') : 'clean';
        // Incremental with reordering: whether the held write's pages are clean (never protected,
        // so no fault makes it acknowledge) or written (protected) depends on the log's writes so far.
        const exact = !(incremental && emulateStoreBuffer);
        it(`${strategy}: held at ${writerStep}, let go at ${saverStep}: ${expected}`, async () => {
          memory.setSafePointHook(saverHook(gate, saverStep));
          await holdWriterAt(gate, writerStep);
          const sink = incremental ? chain : new MemorySink();
          const outcome = await lastValueFrom(snapshot(memory, sink, { strategy, incremental }).pipe(toArray())).then(
            (events: SnapshotEvent[]) => ({ events }),
            (error: unknown) => ({ error }),
          );
          memory.setSafePointHook(undefined);
          expect(memory.snapshotting).toBe(false);
          expect(!memory.states.some(isProtected)).toBe(true);
          if ('error' in outcome) {
            expect(outcome.error).toBeInstanceOf(CutViolationError);
            if (exact) expect(expected).toBe('violation');
            return;
          }
          const started = outcome.events.find((e): e is StartedEvent => e.type === 'started') as StartedEvent;
          const done = outcome.events.find((e): e is DoneEvent => e.type === 'done') as DoneEvent;
          if (exact) {
            expect(expected).not.toBe('violation');
            expect(done.stats.t0Redos).toBe(expected === 'redo' ? 1 : 0);
          } else expect(done.stats.t0Redos).toBeLessThanOrEqual(1);
          expect(started.t0Redos).toBe(done.stats.t0Redos);
          // The image is the log replayed to the cut, byte for byte.
          replay.advance(started.cut);
          for (const [name, bytes] of replay.blocks) expect(Buffer.compare(sink.image(name), bytes), `image of ${name}`).toBe(0);
        });
      }
    }
  }
});

/**
 * A writer's own copy, held between each two of its steps while the
 * snapshot goes on (its bulk pass claims pages around the held one, and
 * `done` waits for a claimed page not yet reported), or while the snapshot is
 * cancelled under it. The image is the cut either way, and after a cancel
 * the writer gives back what it took and the next snapshot is whole.
 */
const COPY_STEPS: readonly WriterStep[] = ['slot', 'entry', 'claimed', 'copied', 'reported'];

describe('a writer\'s own copy, held at each step', () => {
  const copyShape: LogShape = { seed: 11, writers: 1, pageSize: 4096, sharedPages: 256, ownPages: 256 };
  let memory: PagedMemory;
  let gate: Int32Array;
  let worker: Worker;
  let replay: LogReplay;

  beforeAll(async () => {
    memory = new PagedMemory({ blocks: logBlocks(copyShape) });
    gate = newGate(30);
    worker = startWorker(WRITER, { handle: memory.share(), shape: copyShape, gate: gate.buffer, stepped: true, emulateStoreBuffer: false, burst: 16, pauseUs: 20 });
    await nextMessage(worker);
    await until(() => Atomics.load(gate, Gate.Writes) >= 256);
    replay = new LogReplay(copyShape);
  });

  afterAll(async () => {
    Atomics.store(gate, Gate.Stop, 1);
    await worker.terminate();
  });

  /** A snapshot that lasts (a seek-bound disk), its events, and a way to cancel it. */
  function slowSnapshot(sink: MemorySink) {
    const events: SnapshotEvent[] = [];
    let settle: (error?: unknown) => void = () => undefined;
    const ended = new Promise<unknown>((resolve) => (settle = resolve));
    const subscription = snapshot(memory, new ThrottledSink(sink, { profile: 'hdd' }), { strategy: 'copy', poolPages: 16 }).subscribe({
      next: (e) => events.push(e),
      error: (e: unknown) => settle(e),
      complete: () => settle(),
    });
    return { events, ended, cancel: () => subscription.unsubscribe() };
  }

  function expectCut(events: readonly SnapshotEvent[], sink: MemorySink): void {
    const started = events.find((e): e is StartedEvent => e.type === 'started') as StartedEvent;
    expect(events.some((e) => e.type === 'done')).toBe(true);
    replay.advance(started.cut);
    for (const [name, bytes] of replay.blocks) expect(Buffer.compare(sink.image(name), bytes), `image of ${name}`).toBe(0);
  }

  /**
   * Snapshots, each checked, until one finds the writer at `step` (a writer
   * copies its own page only when it faults with a pool slot free); returns
   * that one, under way.
   */
  async function snapshotHolding(step: WriterStep) {
    let isHeld = false;
    const held = holdWriterAt(gate, step, 30_000).then(() => (isHeld = true));
    for (;;) {
      const sink = new MemorySink();
      const run = slowSnapshot(sink);
      await Promise.race([held, run.ended]);
      if (isHeld) return { run, sink };
      expect(await run.ended).toBeUndefined();
      expectCut(run.events, sink);
    }
  }

  for (const step of COPY_STEPS) {
    it(`held at ${step} while the snapshot goes on: the image is the cut`, async () => {
      const { run, sink } = await snapshotHolding(step);
      expect(await run.ended).toBeUndefined();
      expectCut(run.events, sink);
    });

    it(`held at ${step} while the snapshot is cancelled: nothing stays protected, the next snapshot is whole`, async () => {
      const { run } = await snapshotHolding(step);
      run.cancel();
      releaseWriter(gate);
      expect(memory.snapshotting).toBe(false);
      expect(!memory.states.some(isProtected)).toBe(true);
      const sink = new MemorySink();
      const events = await lastValueFrom(snapshot(memory, sink, { strategy: 'copy', poolPages: 16 }).pipe(toArray()));
      expectCut(events, sink);
    });
  }
});
