import { filter, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PagedMemory, restoreLive, type RestoreEvent } from '../../src';
import { numberedSource, type ArraySource } from '../support/ArraySource';
import { marbles } from '../support/marbles';

const PAGE = 512;
const W = new Uint8Array([0xee]);

function memoryOf(pages: number): PagedMemory {
  return new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: pages * PAGE }] });
}

/** `loaded` events as `b:0` (background, record 0) or `f:3,4` (a read that served a fault); `done` as itself. */
function reads(source: ArraySource) {
  return (events$: import('rxjs').Observable<RestoreEvent>) =>
    events$.pipe(
      filter((e) => e.type === 'loaded' || e.type === 'done'),
      map((e) => (e.type === 'loaded' ? `${e.via[0]}:${source.lastDone.join(',')}` : e.type)),
    );
}

describe('restoreLive priorities', () => {
  // Rule: a fault's record is read before the next background read.
  it('loads a faulted page before the next background read', marbles((m) => {
    const memory = memoryOf(4);
    const source = numberedSource(4, m.scheduler);
    m.hot('   --w').subscribe(() => void memory.write('ram', 3 * PAGE, W));
    const events$ = restoreLive(source, memory, { reads: 1, runBytes: PAGE, faultRunBytes: PAGE, scheduler: m.scheduler });
    m.expect(events$.pipe(reads(source))).toBeObservable(
      '       -----a----b----c----(de|)',
      { a: 'b:0', b: 'f:3', c: 'b:1', d: 'b:2', e: 'done' },
    );
  }));

  // Rule: a page faulted twice (and by a read and a write) is read once, and a fault on a
  // page whose background read is in flight waits for that read.
  it('reads a page faulted twice once', marbles((m) => {
    const memory = memoryOf(4);
    const source = numberedSource(4, m.scheduler);
    m.hot('   --ab').subscribe((v) => {
      if (v === 'a') void memory.write('ram', 3 * PAGE, W);
      else {
        void memory.readAsync('ram', 3 * PAGE, 1);
        void memory.write('ram', 0, W); // record 0 is being read by the background pass
      }
    });
    let done: RestoreEvent | undefined;
    restoreLive(source, memory, { reads: 1, runBytes: PAGE, faultRunBytes: PAGE, scheduler: m.scheduler }).subscribe((e) => (done = e));
    m.flush();
    expect(source.reads).toEqual([[0], [3], [1], [2]]);
    expect(done?.type === 'done' && done.stats).toMatchObject({ faults: 3, loaded: { fault: 1, background: 3 } });
    expect(memory.read('ram', 0, 1)).toEqual(W);
    expect(memory.read('ram', 3 * PAGE, 1)).toEqual(W);
  }));

  // Rule: the background pass keeps one credit free, so a fault is read at once; while a
  // fault waits (queued or being read) reads are cut to `faultRunBytes`; once none waits
  // they grow back to `runBytes`.
  it('backs off while faults wait', marbles((m) => {
    const memory = memoryOf(16);
    const source = numberedSource(16, m.scheduler);
    m.hot('   --w').subscribe(() => void memory.write('ram', 15 * PAGE, W));
    const events$ = restoreLive(source, memory, { reads: 2, runBytes: 4 * PAGE, faultRunBytes: PAGE, scheduler: m.scheduler });
    m.expect(events$.pipe(reads(source))).toBeObservable(
      '       -----a-b--c----d----e----(fg|)',
      { a: 'b:0,1,2,3', b: 'f:15', c: 'b:4', d: 'b:5,6,7,8', e: 'b:9,10,11,12', f: 'b:13,14', g: 'done' },
    );
  }));
});
