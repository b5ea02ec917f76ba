import type { Worker } from 'node:worker_threads';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import type { DoneEvent, MemoryHandle, PagedMemory, SnapshotEvent, StartedEvent, WriterFaults } from '../../src';
import { Writer, writerWord } from '../../src/threads/layout';
import { nextMessage, startWorker } from '../support/workers';
import type { LogShape } from './workers/writeLog';

export const SCRIPTED = require.resolve('./workers/scripted.ts');
const RANDOM_WRITES = require.resolve('./workers/randomWrites.ts');

/** What a `randomWrites` writer reports when it stops. */
export interface Finished {
  readonly type: 'finished';
  readonly id: number;
  readonly writes: number;
  readonly faults: WriterFaults;
}

/**
 * Starts `shape.writers` threads writing their logs (`writeLog`) at full
 * speed on `memory`, and resolves once every one is well under way, however
 * loaded the machine is. `stop()` stops them and gives what each did.
 */
export async function startWriters(memory: PagedMemory, shape: LogShape) {
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const handle = memory.share();
  const workers = Array.from({ length: shape.writers }, () => startWorker(RANDOM_WRITES, { handle, shape, flags: flags.buffer }));
  const ids = (await Promise.all(workers.map((w) => nextMessage<{ id: number }>(w)))).map((m) => m.id);
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  const control = new Int32Array(handle.control);
  await until(() => ids.every((id) => Atomics.load(control, writerWord(id, Writer.Seq)) >= 2000));
  return {
    workers,
    async stop(): Promise<Finished[]> {
      const finished = workers.map((w) => nextMessage<Finished>(w));
      Atomics.store(flags, 1, 1);
      return (await Promise.all(finished)).sort((a, b) => a.id - b.id);
    },
  };
}

/** Starts a scripted writer thread and waits until it is attached. */
export async function scriptedWriter(handle: MemoryHandle): Promise<{ worker: Worker; id: number }> {
  const worker = startWorker(SCRIPTED, { handle });
  const { id } = await nextMessage<{ id: number }>(worker);
  return { worker, id };
}

/** The page writer `id` is blocked on, or -1. */
export function blockedOn(handle: MemoryHandle, id: number): number {
  return Atomics.load(new Int32Array(handle.control), writerWord(id, Writer.WaitPage));
}

/** Resolves once `check()` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Every event of a snapshot, and its `started` and `done`. */
export async function run(events$: Observable<SnapshotEvent>): Promise<{ started: StartedEvent; done: DoneEvent }> {
  const events = await lastValueFrom(events$.pipe(toArray()));
  const started = events.find((e): e is StartedEvent => e.type === 'started');
  const done = events.find((e): e is DoneEvent => e.type === 'done');
  if (started === undefined || done === undefined) throw new Error('snapshot without started or done');
  return { started, done };
}
