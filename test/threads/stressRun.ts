/**
 * Snapshot after snapshot of a memory that bursty writer threads keep
 * writing, each image compared with the writers' logs replayed to its cut.
 * The suite runs it for about a minute (`stress.test.ts`); `bench/safepoint.ts`
 * runs it for a million snapshots.
 */
import type { Worker } from 'node:worker_threads';
import { lastValueFrom, toArray } from 'rxjs';
import { CutViolationError, MemorySink, PagedMemory, snapshot, type DoneEvent, type SnapshotEvent, type StartedEvent } from '../../src';
import { ChainSink } from '../support/ChainSink';
import { nextMessage, startWorker } from '../support/workers';
import { Gate, newGate } from './gate';
import { LogReplay, logBlocks, type LogShape } from './workers/writeLog';

const WRITER = require.resolve('./workers/steppedWrites.ts');

export interface StressOptions {
  /** Stop after this many snapshots… */
  readonly snapshots: number;
  /** …or after this many seconds, whichever comes first. */
  readonly seconds: number;
  readonly writers: number;
  /** Writes per burst, and the sleep after each burst. */
  readonly burst: number;
  readonly pauseUs: number;
  /**
   * Incremental snapshots after the first, each laid over the chain's image
   * (`ChainSink`), which is what is compared with the cut.
   */
  readonly incremental?: boolean;
  /** Called every `every` snapshots with the tally so far. */
  readonly onProgress?: (tally: StressTally) => void;
  readonly every?: number;
}

export interface StressTally {
  readonly snapshots: number;
  /** Ended `done` with an image equal to the logs replayed to the cut. */
  readonly consistent: number;
  /** Ended `done` with an image that is NOT the replay to its cut: the failure this exists to find. */
  readonly inconsistent: number;
  /** Failed with `CutViolationError`. */
  readonly violations: number;
  /** The errors snapshots failed with, cut violations included (the first few kept). */
  readonly otherErrors: readonly unknown[];
  /** Safe points taken again (`stats.t0Redos`), summed. */
  readonly redos: number;
  /** Snapshots whose cut differs from the one before: the writers wrote in between. */
  readonly cutMoved: number;
  /** Writes in the last cut, all writers together. */
  readonly writesAtLastCut: number;
  /** Pages saved, over every snapshot: fewer than all pages each time when incremental. */
  readonly pagesSaved: number;
  /** `stats.t0PauseMs` of every snapshot, in order. */
  readonly pausesMs: readonly number[];
  readonly elapsedMs: number;
}

export async function runStress(options: StressOptions): Promise<StressTally> {
  const shape: LogShape = { seed: 2026, writers: options.writers, pageSize: 4096, sharedPages: 16, ownPages: 8 };
  const memory = new PagedMemory({ blocks: logBlocks(shape) });
  const handle = memory.share();
  const gate = newGate(0);
  const workers: Worker[] = Array.from({ length: options.writers }, () =>
    startWorker(WRITER, { handle, shape, gate: gate.buffer, stepped: false, emulateStoreBuffer: false, burst: options.burst, pauseUs: options.pauseUs }),
  );
  const replay = new LogReplay(shape);
  const chain = new ChainSink();
  const tally = { snapshots: 0, consistent: 0, inconsistent: 0, violations: 0, otherErrors: [] as unknown[], redos: 0, pagesSaved: 0, cutMoved: 0, writesAtLastCut: 0, pausesMs: [] as number[], elapsedMs: 0 };
  try {
    await Promise.all(workers.map((w) => nextMessage(w)));
    const start = performance.now();
    while (tally.snapshots < options.snapshots && performance.now() - start < options.seconds * 1000) {
      const strategy = tally.snapshots % 2 === 0 ? 'copy' : 'queue';
      const sink = options.incremental === true ? chain : new MemorySink();
      const outcome = await lastValueFrom(snapshot(memory, sink, { strategy, poolPages: 8, incremental: options.incremental }).pipe(toArray())).then(
        (events: SnapshotEvent[]) => ({ events }),
        (error: unknown) => ({ error }),
      );
      tally.snapshots++;
      if ('error' in outcome) {
        if (outcome.error instanceof CutViolationError) {
          tally.violations++;
          if (tally.otherErrors.length < 5) tally.otherErrors.push(outcome.error);
        }
        else if (tally.otherErrors.length < 5) tally.otherErrors.push(outcome.error);
      } else {
        const started = outcome.events.find((e): e is StartedEvent => e.type === 'started') as StartedEvent;
        const done = outcome.events.find((e): e is DoneEvent => e.type === 'done') as DoneEvent;
        tally.redos += done.stats.t0Redos;
        tally.pagesSaved += done.stats.totalPages;
        tally.pausesMs.push(done.stats.t0PauseMs);
        const writes = started.cut.reduce((a, b) => a + b, 0);
        if (writes !== tally.writesAtLastCut) tally.cutMoved++;
        tally.writesAtLastCut = writes;
        replay.advance(started.cut);
        let same = true;
        for (const [name, bytes] of replay.blocks) same &&= Buffer.compare(sink.image(name), bytes) === 0;
        if (same) tally.consistent++;
        else tally.inconsistent++;
      }
      tally.elapsedMs = performance.now() - start;
      if (options.onProgress !== undefined && tally.snapshots % (options.every ?? 10_000) === 0) options.onProgress(tally);
    }
    return tally;
  } finally {
    Atomics.store(gate, Gate.Stop, 1);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
