import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { isProtected, SinkError, snapshot, VirtualSink } from '../../src';
import { numberedMemory, only, pagesOf, runToEnd } from '../support/fixtures';
import { marbles } from '../support/marbles';
import { VirtualClock } from '../../src/sim/VirtualClock';

const W = new Uint8Array([0xee]);
const at = (page: number) => page * 512;

describe('an incremental snapshot', () => {
  // Rule: only the pages written since the last committed t0 are protected and
  // saved; a write after t0 to any other page lands at once, with no fault.
  it('protects only written pages; a write to another page does not fault', marbles((m) => {
    const memory = numberedMemory(8);
    runToEnd(memory);
    void memory.write('ram', at(2), W);
    void memory.write('ram', at(5), W);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: 5 });
    m.hot('    --w').subscribe(() => {
      void memory.write('ram', at(3), W);
      void memory.write('ram', at(5), new Uint8Array([0xaa]));
    });
    const events$ = snapshot(memory, sink, { incremental: true, strategy: 'queue', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('started', 'fault', 'saved', 'done'))).toBeObservable(
      '        s-f--a----(bd|)',
      { s: 'started', f: 'f5', a: 'bulk 2', b: 'fault 5', d: 'done' },
    );
    // Page 3 is not held: its write lands the frame it is made. Page 5's waits for its save.
    const byte$ = m.cold('-a-b-----c-d|').pipe(map(() => `${memory.read('ram', at(3), 1)[0]}/${memory.read('ram', at(5), 1)[0]}`));
    m.expect(byte$).toBeObservable(
      '        -o-t-----t-n|',
      { o: '4/238', t: '238/238', n: '238/170' },
    );
    m.flush();
    expect(sink.log.map((w) => w.page)).toEqual([2, 5]);
  }));

  // Rule: at t0, exactly the written pages are protected; the others are never protected.
  it('holds at t0 the written pages and no other', () => {
    const memory = numberedMemory(8);
    runToEnd(memory);
    void memory.write('ram', at(1), W);
    void memory.write('ram', at(6) + 511, new Uint8Array([1, 2])); // pages 6 and 7
    const held: number[] = [];
    const sink = new VirtualSink({ scheduler: new VirtualClock(), capacity: 1, latency: 1 });
    const subscription = snapshot(memory, sink, { incremental: true }).subscribe((e) => {
      if (e.type !== 'started') return;
      for (let p = 0; p < 8; p++) if (memory.isProtected('ram', p)) held.push(p);
      expect([e.kind, e.totalPages, e.memoryPages]).toEqual(['incremental', 3, 8]);
    });
    subscription.unsubscribe();
    expect(held).toEqual([1, 6, 7]);
  });

  // Rule: a failed incremental snapshot clears nothing: its pages, saved or not,
  // come again in the next one, with the pages written since its t0.
  it("gives a failed snapshot's pages to the next one", marbles((m) => {
    const memory = numberedMemory(8);
    const full = runToEnd(memory).stats;
    void memory.write('ram', at(1), W);
    void memory.write('ram', at(4), W);
    const sink = new VirtualSink({
      scheduler: m.scheduler,
      capacity: 1,
      latency: 5,
      fail: (run) => (run.page === 4 ? new Error('disk gone') : undefined),
    });
    m.hot('    --w').subscribe(() => void memory.write('ram', at(6), W));
    const events$ = snapshot(memory, sink, { incremental: true, strategy: 'queue', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('saved', 'done'))).toBeObservable(
      '        -----a----#',
      { a: 'bulk 1' },
      new SinkError('write', new Error('disk gone')),
    );
    m.flush();
    expect(memory.states.some(isProtected)).toBe(false);
    // The next one holds page 1 (saved, but not committed), 4 (failed) and 6 (written after t0),
    // and names the last committed snapshot as its parent.
    const next = runToEnd(memory, { incremental: true });
    expect(pagesOf(memory, next.log)).toEqual([1, 4, 6]);
    expect(next.stats.identity.parent).toBe(full.identity.id);
    expect(next.stats.identity.link).toBe(1);
    // Committed, it is what the one after builds on: nothing written since, nothing to save.
    const empty = runToEnd(memory, { incremental: true });
    expect(empty.log).toEqual([]);
    expect(empty.stats.identity.parent).toBe(next.stats.identity.id);
    expect(empty.stats.identity.link).toBe(2);
  }));

  // Rule: with no committed snapshot to build on, an incremental snapshot is a full one.
  it('is a full one when nothing was committed before', () => {
    const memory = numberedMemory(4);
    const first = runToEnd(memory, { incremental: true });
    expect(first.stats.kind).toBe('full');
    expect(pagesOf(memory, first.log)).toEqual([0, 1, 2, 3]);
    expect(first.stats.identity.root).toBe(first.stats.identity.id);
  });
});
