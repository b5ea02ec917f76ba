import { filter, map, type Observable, type OperatorFunction } from 'rxjs';
import { PagedMemory, snapshot, VirtualSink } from '../../src';
import type { SnapshotEvent, SnapshotOptions, SnapshotStats, WriteRecord } from '../../src';
import { VirtualClock } from '../../src/sim/VirtualClock';

/** A memory of one block, `pages` pages of 512 bytes; page p is filled with p + 1. */
export function numberedMemory(pages: number, pageSize = 512): PagedMemory {
  const memory = new PagedMemory({ pageSize, blocks: [{ name: 'ram', size: pages * pageSize }] });
  const bytes = memory.block('ram').bytes;
  for (let p = 0; p < pages; p++) bytes.fill((p + 1) & 0xff, p * pageSize, (p + 1) * pageSize);
  return memory;
}

/**
 * Events as short strings, so marble values read at a glance:
 * `bulk 0` / `bulk 0+2` (saved), `u:fault 3` (unprotected), `f3` (fault), `done`.
 */
export function code(event: SnapshotEvent): string {
  switch (event.type) {
    case 'saved':
      return `${event.via} ${event.page}${event.count > 1 ? `+${event.count}` : ''}`;
    case 'unprotected':
      return `u:${event.via} ${event.page}${event.count > 1 ? `+${event.count}` : ''}`;
    case 'fault':
      return `f${event.page}`;
    default:
      return event.type;
  }
}

/** Keeps events of the given types, as codes. */
export function only(...types: SnapshotEvent['type'][]): OperatorFunction<SnapshotEvent, string> {
  return (events$: Observable<SnapshotEvent>) =>
    events$.pipe(
      filter((e) => types.includes(e.type)),
      map(code),
    );
}

/**
 * Runs a snapshot of `memory` to its end on a virtual clock of its own, into
 * a `VirtualSink` (which logs every run), and returns its stats and the log:
 * a committed snapshot to build incremental ones on, or one to inspect.
 */
export function runToEnd(memory: PagedMemory, options: SnapshotOptions = {}): { stats: SnapshotStats; log: readonly WriteRecord[] } {
  const clock = new VirtualClock();
  const sink = new VirtualSink({ scheduler: clock, capacity: 2, latency: 1 });
  let stats: SnapshotStats | undefined;
  let failure: unknown;
  snapshot(memory, sink, { ...options, scheduler: clock }).subscribe({
    next: (e) => {
      if (e.type === 'done') stats = e.stats;
    },
    error: (error: unknown) => (failure = error),
  });
  clock.flush();
  if (failure !== undefined) throw failure;
  if (stats === undefined) throw new Error('the snapshot did not end');
  return { stats, log: sink.log };
}

/** The global pages a log of runs holds, in order. */
export function pagesOf(memory: PagedMemory, log: readonly Pick<WriteRecord, 'block' | 'page' | 'count'>[]): number[] {
  const pages: number[] = [];
  for (const w of log) {
    const first = (memory.blocks[w.block]?.firstPage ?? NaN) + w.page;
    for (let p = first; p < first + w.count; p++) pages.push(p);
  }
  return pages.sort((a, b) => a - b);
}
