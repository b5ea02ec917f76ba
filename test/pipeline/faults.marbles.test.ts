import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { snapshot, VirtualSink, type SnapshotEvent, type SnapshotStats } from '../../src';
import { numberedMemory, only } from '../support/fixtures';
import { marbles } from '../support/marbles';

const LATENCY = 5;
const W = new Uint8Array([0xee]);

describe('faults', () => {
  // Rule: a fault is served before the next bulk page (queue strategy).
  it('serves a fault before the next bulk page', marbles((m) => {
    const memory = numberedMemory(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    --w').subscribe(() => void memory.write('ram', 3 * 512, W));
    const saved$ = snapshot(memory, sink, { strategy: 'queue', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(saved$.pipe(only('saved'))).toBeObservable(
      '        -----a----b----c----(d|)',
      { a: 'bulk 0', b: 'fault 3', c: 'bulk 1', d: 'bulk 2' },
    );
  }));

  // Rule: under copy, pending copies are written before the bulk pass goes on.
  it('writes pending copies before the next bulk page', marbles((m) => {
    const memory = numberedMemory(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    --w').subscribe(() => {
      void memory.write('ram', 2 * 512, W);
      void memory.write('ram', 3 * 512, W);
    });
    const saved$ = snapshot(memory, sink, { strategy: 'copy', poolPages: 2, runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(saved$.pipe(only('saved'))).toBeObservable(
      '        -----a----b----c----(d|)',
      { a: 'bulk 0', b: 'copy 2', c: 'copy 3', d: 'bulk 1' },
    );
  }));

  // Rule: with the pool empty, a fault is served the queue way, and a queued
  // fault (its writer waits) goes before pending copies (they only hold buffers).
  it('falls back to queue when the pool is empty, queued faults first', marbles((m) => {
    const memory = numberedMemory(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    --w').subscribe(() => {
      void memory.write('ram', 2 * 512, W);
      void memory.write('ram', 3 * 512, W);
    });
    const events$ = snapshot(memory, sink, { strategy: 'copy', poolPages: 1, runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('saved'))).toBeObservable(
      '        -----a----b----c----(d|)',
      { a: 'bulk 0', b: 'fault 3', c: 'copy 2', d: 'bulk 1' },
    );
  }));

  // Rule: a write to a page already saved does not fault at all.
  it('does not fault on a page already saved', marbles((m) => {
    const memory = numberedMemory(3);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    -------w').subscribe(() => void memory.write('ram', 0, W));
    const events$ = snapshot(memory, sink, { strategy: 'queue', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('fault', 'saved'))).toBeObservable(
      '        -----a----b----(c|)',
      { a: 'bulk 0', b: 'bulk 1', c: 'bulk 2' },
    );
  }));

  // Rule: a fault on a page whose bulk write is in flight waits for that write; no second save.
  it('does not save a page twice when its bulk write is in flight', marbles((m) => {
    const memory = numberedMemory(2);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    --w').subscribe(() => void memory.write('ram', 0, W));
    const events$ = snapshot(memory, sink, { strategy: 'copy', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('fault', 'saved', 'unprotected'))).toBeObservable(
      '        --f--(su)-(tv|)',
      { f: 'f0', s: 'bulk 0', u: 'u:bulk 0', t: 'bulk 1', v: 'u:bulk 1' },
    );
  }));

  // Rule: many faults on one page cause one save, and every one of them is released by it.
  it('saves a page once however many writes fault on it', marbles((m) => {
    const memory = numberedMemory(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    -abc').subscribe((v) => void memory.write('ram', 3 * 512 + v.charCodeAt(0), W));
    let stats: SnapshotStats | undefined;
    const events$ = snapshot(memory, sink, { strategy: 'queue', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler }).pipe(
      tap((e: SnapshotEvent) => { if (e.type === 'done') stats = e.stats; }),
    );
    m.expect(events$.pipe(only('fault', 'saved'))).toBeObservable(
      '        -xyz-a----b----c----(d|)',
      { x: 'f3', y: 'f3', z: 'f3', a: 'bulk 0', b: 'fault 3', c: 'bulk 1', d: 'bulk 2' },
    );
    m.flush();
    expect(stats?.faults).toBe(3);
    expect(stats?.saved).toEqual({ bulk: 3, fault: 1, copy: 0 });
    expect(memory.read('ram', 3 * 512 + 97, 3)).toEqual(new Uint8Array([0xee, 0xee, 0xee]));
  }));

  // Rule: with a fault run, a fault's write also saves the unsaved pages next
  // to it in its block (forward first), and the bulk pass skips them.
  it('saves the neighbours of a faulted page in its write, up to faultRunBytes', marbles((m) => {
    const memory = numberedMemory(6);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    --w').subscribe(() => void memory.write('ram', 4 * 512, W));
    const saved$ = snapshot(memory, sink, {
      strategy: 'queue',
      runBytes: 512,
      faultRunBytes: 3 * 512,
      minWriteBytes: 512,
      maxWriteBytes: 3 * 512,
      detail: true,
      scheduler: m.scheduler,
    });
    // The write after the fault's has room for two pages: bulk 1 and 2 share it.
    m.expect(saved$.pipe(only('saved'))).toBeObservable(
      '        -----a----b----(cd|)',
      { a: 'bulk 0', b: 'fault 3+3', c: 'bulk 1', d: 'bulk 2' },
    );
  }));

  // Rule: a queued fault inside another fault's run is served by that write:
  // one save, and both pages are unprotected when it completes.
  it('serves a queued neighbour with the fault run that covers it', marbles((m) => {
    const memory = numberedMemory(5);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    --w').subscribe(() => {
      void memory.write('ram', 3 * 512, W);
      void memory.write('ram', 4 * 512, W);
    });
    const events$ = snapshot(memory, sink, {
      strategy: 'queue',
      runBytes: 512,
      faultRunBytes: 2 * 512,
      minWriteBytes: 512,
      maxWriteBytes: 2 * 512,
      detail: true,
      scheduler: m.scheduler,
    });
    // The write after the fault's has room for two pages: bulk 1 and 2 share it.
    m.expect(events$.pipe(only('saved', 'unprotected'))).toBeObservable(
      '        -----(su)-(tv)-(bwcx|)',
      {
        s: 'bulk 0', u: 'u:bulk 0',
        t: 'fault 3+2', v: 'u:fault 3+2',
        b: 'bulk 1', w: 'u:bulk 1',
        c: 'bulk 2', x: 'u:bulk 2',
      },
    );
  }));
});
