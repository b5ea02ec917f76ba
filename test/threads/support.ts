import type { Worker } from 'node:worker_threads';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import type { DoneEvent, MemoryHandle, SnapshotEvent, StartedEvent } from '../../src';
import { Writer, writerWord } from '../../src/threads/layout';
import { nextMessage, startWorker } from '../support/workers';

export const SCRIPTED = require.resolve('./workers/scripted.ts');

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
