import { isProtected } from '../../src/memory/contract';
import type { Worker } from 'node:worker_threads';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { CutViolationError, MemorySink, PagedMemory, PageState, snapshot, ThrottledSink, type SnapshotEvent, type StartedEvent } from '../../src';
import { Writer, WriterStatus, writerWord } from '../../src/threads/layout';
import { nextMessage, startWorker } from '../support/workers';
import { Gate, holdWriterAt, newGate, saverHook } from './gate';
import { until } from './support';
import { LogReplay, logBlocks, type LogShape } from './workers/writeLog';

const WRITER = require.resolve('./workers/steppedWrites.ts');

/**
 * A writer stalled inside a write for longer than `safePointTimeoutMs` (held
 * at a step here; a GC pause or a stopped thread for real) is declared gone.
 * The safe point waits that long for each writer on its own clock, so the
 * writers that did pause are not declared gone with it; the stalled write is
 * not in the cut; and if it completes while a snapshot runs, that snapshot
 * fails rather than commit an image its bytes may have reached.
 */
const shape: LogShape = { seed: 5, writers: 2, pageSize: 4096, sharedPages: 64, ownPages: 64 };

let workers: Worker[] = [];
let gates: Int32Array[] = [];
afterEach(async () => {
  for (const gate of gates) Atomics.store(gate, Gate.Stop, 1);
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
  gates = [];
});

async function twoWriters(memory: PagedMemory, holdMs: number) {
  const handle = memory.share({ safePointTimeoutMs: 40 });
  // Writer 0 can be held at a step; writer 1 writes on the fast path.
  gates = [newGate(holdMs), newGate(0)];
  workers = gates.map((gate, i) =>
    startWorker(WRITER, { handle, shape, gate: gate.buffer, stepped: i === 0, emulateStoreBuffer: false, burst: 16, pauseUs: 20 }),
  );
  // Writer ids go by attach order, which need not be the order the threads were started in.
  const ids = (await Promise.all(workers.map((w) => nextMessage<{ id: number }>(w)))).map((m) => m.id);
  await until(() => gates.every((g) => Atomics.load(g, Gate.Writes) >= 256));
  /** The status of the writer started `i`-th. */
  const status = (i: number): number => Atomics.load(new Int32Array(handle.control), writerWord(ids[i] as number, Writer.Status));
  // Listening from now on: a message posted with no listener is lost.
  const finished = nextMessage<{ gone: boolean }>(workers[0] as Worker);
  return { gates, status, finished };
}

function outcome(events$: ReturnType<typeof snapshot>) {
  return lastValueFrom(events$.pipe(toArray())).then(
    (events: SnapshotEvent[]) => ({ events }),
    (error: unknown) => ({ error }),
  );
}

describe('a writer stalled inside a write past the safe point\'s timeout', () => {
  it('is declared gone alone, its write out of the cut; the snapshot is done with the image of the cut', async () => {
    const memory = new PagedMemory({ blocks: logBlocks(shape) });
    const { gates, status, finished } = await twoWriters(memory, 500);
    await holdWriterAt(gates[0] as Int32Array, 'pages');
    const sink = new MemorySink();
    const result = await outcome(snapshot(memory, sink, { strategy: 'copy' }));
    expect('events' in result).toBe(true);
    if (!('events' in result)) return;
    expect(status(0)).toBe(WriterStatus.Gone);
    expect(status(1)).toBe(WriterStatus.Attached);
    const started = result.events.find((e): e is StartedEvent => e.type === 'started') as StartedEvent;
    expect(started.t0Redos).toBe(0);
    const replay = new LogReplay(shape).advance(started.cut);
    for (const [name, bytes] of replay.blocks) expect(Buffer.compare(sink.image(name), bytes), `image of ${name}`).toBe(0);
    // The writer that paused goes on writing; the gone one stops at its next write.
    const before = Atomics.load(gates[1] as Int32Array, Gate.Writes);
    await until(() => Atomics.load(gates[1] as Int32Array, Gate.Writes) > before + 256);
    expect((await finished).gone).toBe(true);
  });

  it('that completes its write while a snapshot runs fails that snapshot; the next one is whole', async () => {
    const memory = new PagedMemory({ blocks: logBlocks(shape) });
    const { gates, status, finished } = await twoWriters(memory, 5_000);
    await holdWriterAt(gates[0] as Int32Array, 'pages');
    // Declared gone at the count, the held writer is let go after t0: its write completes
    // while the snapshot runs.
    memory.setSafePointHook(saverHook(gates[0] as Int32Array, 'checked'));
    const slow = await outcome(snapshot(memory, new ThrottledSink(new MemorySink(), { profile: 'hdd' }), { strategy: 'queue' }));
    memory.setSafePointHook(undefined);
    expect(status(0)).toBe(WriterStatus.Gone);
    expect('error' in slow && slow.error).toBeInstanceOf(CutViolationError);
    expect(!memory.states.some(isProtected)).toBe(true);
    expect((await finished).gone).toBe(true);
    const sink = new MemorySink();
    const next = await outcome(snapshot(memory, sink, { strategy: 'copy' }));
    expect('events' in next).toBe(true);
    if (!('events' in next)) return;
    const started = next.events.find((e): e is StartedEvent => e.type === 'started') as StartedEvent;
    const replay = new LogReplay(shape).advance(started.cut);
    for (const [name, bytes] of replay.blocks) expect(Buffer.compare(sink.image(name), bytes), `image of ${name}`).toBe(0);
  });
});
