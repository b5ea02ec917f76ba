import { lastValueFrom, queueScheduler, tap, toArray, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  MemorySink,
  SinkError,
  snapshot,
  SnapshotInProgressError,
  VirtualSink,
  type SnapshotEvent,
} from '../../src';
import { numberedMemory } from '../support/fixtures';
import { copyBlocks, expectAllUnprotected, expectSameBytes } from '../support/invariants';

describe('snapshot lifecycle', () => {
  it('is cold: nothing is protected until subscribe', () => {
    const memory = numberedMemory(2);
    snapshot(memory, new MemorySink());
    expectAllUnprotected(memory);
  });

  it('refuses a second snapshot of a memory that has one running', () => {
    const scheduler = new VirtualTimeScheduler();
    const memory = numberedMemory(4);
    const first = snapshot(memory, new VirtualSink({ scheduler, latency: 5 }), { scheduler }).subscribe();
    let error: unknown;
    snapshot(memory, new MemorySink(), { scheduler }).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(SnapshotInProgressError);
    scheduler.flush();
    expect(first.closed).toBe(true);
    expectAllUnprotected(memory);
  });

  it('fails with a SinkError on a write error, after releasing every page and writer', async () => {
    const scheduler = new VirtualTimeScheduler();
    const memory = numberedMemory(6);
    const eio = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    const sink = new VirtualSink({ scheduler, latency: 3, fail: (_, i) => (i === 2 ? eio : undefined) });
    let released = false;
    scheduler.schedule(() => void memory.write('ram', 5 * 512, new Uint8Array([1])).then(() => (released = true)), 1);
    const events: SnapshotEvent[] = [];
    let error: unknown;
    let protectedAtError: boolean | undefined;
    snapshot(memory, sink, { strategy: 'queue', runBytes: 512, maxWriteBytes: 512, scheduler }).subscribe({
      next: (e) => events.push(e),
      error: (e: unknown) => {
        error = e;
        protectedAtError = memory.states.some((s) => s !== 0);
      },
    });
    scheduler.flush();
    await new Promise((r) => setImmediate(r));
    expect(error).toBeInstanceOf(SinkError);
    expect((error as SinkError).operation).toBe('write');
    expect((error as SinkError).cause).toBe(eio);
    expect(protectedAtError).toBe(false);
    expect(released).toBe(true);
    expect(events.some((e) => e.type === 'done')).toBe(false);
    expect(sink.state).toBe('aborted');
    expectAllUnprotected(memory);
  });

  it('fails with a SinkError when the sink refuses to start, protecting nothing after', () => {
    const memory = numberedMemory(2);
    const sink = new MemorySink();
    sink.start = () => {
      throw new Error('no space');
    };
    let error: unknown;
    snapshot(memory, sink).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(SinkError);
    expect((error as SinkError).operation).toBe('start');
    expectAllUnprotected(memory);
  });

  it('yields to the event loop between batches even when the sink completes synchronously', async () => {
    const memory = numberedMemory(256, 4096);
    const atT0 = copyBlocks(memory);
    const sink = new MemorySink();
    // Pages saved so far, as the snapshot reports them while it runs.
    let saved = 0;
    let done = false;
    const events$ = snapshot(memory, sink, { turnBytes: 16 * 4096, runBytes: 4096, maxWriteBytes: 4096 }).pipe(
      tap((e) => {
        if (e.type === 'progress') saved = e.savedPages;
        if (e.type === 'done') done = true;
      }),
      toArray(),
    );
    // Host callbacks queued behind the snapshot's start: each must get its turn before the end.
    const seen: { saved: number; done: boolean }[] = [];
    const finished = lastValueFrom(events$);
    await new Promise<void>((resolve) => {
      const tick = () => {
        seen.push({ saved, done });
        if (done || seen.length > 1000) resolve();
        else setImmediate(tick);
      };
      setImmediate(tick);
    });
    const events = await finished;
    // The host ran while the snapshot was part way, more than once.
    const partWay = seen.filter((s) => !s.done && s.saved > 0 && s.saved < 256);
    expect(partWay.length).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThanOrEqual(256 / 16);
    expectSameBytes((name) => sink.image(name), atT0);
  });

  it('runs to the end on a scheduler that runs work synchronously', () => {
    const memory = numberedMemory(16);
    const atT0 = copyBlocks(memory);
    const sink = new MemorySink();
    const types: string[] = [];
    snapshot(memory, sink, { runBytes: 512, maxWriteBytes: 512, turnBytes: 1024, scheduler: queueScheduler }).subscribe((e) => types.push(e.type));
    expect(types.at(-1)).toBe('done');
    expectSameBytes((name) => sink.image(name), atT0);
    expectAllUnprotected(memory);
  });

  it('finishes when the bulk pass runs out right after a yield', () => {
    // 4 pages, 2 per turn: the third turn finds nothing left and must still end the snapshot.
    const scheduler = new VirtualTimeScheduler();
    const memory = numberedMemory(4);
    const types: string[] = [];
    snapshot(memory, new MemorySink(), { runBytes: 512, maxWriteBytes: 512, turnBytes: 1024, scheduler }).subscribe((e) => types.push(e.type));
    scheduler.flush();
    expect(types).toEqual(['started', 'progress', 'progress', 'progress', 'done']);
  });

  it('saves memory at t0 while in-process writers keep writing, in real time', async () => {
    const memory = numberedMemory(512, 4096);
    let atT0 = new Map<string, Uint8Array>();
    const sink = new MemorySink({ capacity: 2 });
    const writes: Promise<void>[] = [];
    let stop = false;
    const writer = (seed: number) => {
      let x = seed;
      const step = () => {
        if (stop) return;
        for (let i = 0; i < 8; i++) {
          x = (x * 1103515245 + 12345) >>> 0;
          writes.push(memory.write('ram', (x % 512) * 4096 + (x % 4000), new Uint8Array([x & 0xff, 1, 2])));
        }
        setImmediate(step);
      };
      step();
    };
    writer(1);
    writer(2);
    const events = await lastValueFrom(
      snapshot(memory, sink, { strategy: 'copy', poolPages: 8, turnBytes: 8 * 4096, runBytes: 4 * 4096 }).pipe(
        // `started` is emitted synchronously at t0: memory as it is now is what the image must hold.
        tap((e) => e.type === 'started' && (atT0 = copyBlocks(memory))),
        toArray(),
      ),
    );
    stop = true;
    await Promise.all(writes);
    const done = events.find((e) => e.type === 'done');
    if (done?.type !== 'done') throw new Error('no done event');
    expect(done.stats.faults).toBeGreaterThan(0);
    expect(done.stats.saved.bulk + done.stats.saved.fault + done.stats.saved.copy).toBe(512);
    expect(done.stats.stall.count).toBe(done.stats.faults);
    expectSameBytes((name) => sink.image(name), atT0);
    expectAllUnprotected(memory);
  });
});
