import { isProtected } from '../../src/memory/contract';
import { expect } from 'vitest';
import type { PagedMemory, SnapshotEvent, SnapshotMemory, WriteRecord } from '../../src';

/**
 * The invariants every snapshot keeps, whatever the strategy, timing or
 * outcome. Shared by the property tests of the pipeline, the storage and the
 * simulator.
 */

/**
 * A memory whose protection state can be checked after a snapshot:
 * `PagedMemory`, or the simulator's `GeometryMemory`.
 */
export interface InspectableMemory {
  /** One state byte per page; 0 is writable. */
  readonly states: Uint8Array;
  /** Whether a snapshot holds the memory. */
  readonly snapshotting: boolean;
}

/** No page is left protected and the memory takes a new snapshot. */
export function expectAllUnprotected(memory: InspectableMemory): void {
  expect(!memory.states.some(isProtected)).toBe(true);
  expect(memory.snapshotting).toBe(false);
}

/**
 * Each page was saved exactly once, judged from a log of completed writes: the
 * sink's own (`VirtualSink.log`), or one rebuilt from `saved` events.
 */
export function expectEachPageOnce(
  memory: SnapshotMemory,
  log: readonly Pick<WriteRecord, 'block' | 'page' | 'count'>[],
): void {
  const times = new Uint32Array(memory.pageCount);
  for (const w of log) {
    const first = (memory.blocks[w.block]?.firstPage ?? NaN) + w.page;
    for (let p = first; p < first + w.count; p++) times[p] = (times[p] ?? 0) + 1;
  }
  expect(times.every((n) => n === 1)).toBe(true);
}

/**
 * Copies never outnumber the pool: at every point of the event stream, pages
 * unprotected by a copy and not yet saved stay within `poolPages`. Needs `detail`.
 */
export function expectPoolBound(events: readonly SnapshotEvent[], poolPages: number): void {
  let held = 0;
  let peak = 0;
  for (const e of events) {
    if (e.type === 'unprotected' && e.via === 'copy') peak = Math.max(peak, ++held);
    if (e.type === 'saved' && e.via === 'copy') held -= e.count;
  }
  expect(peak).toBeLessThanOrEqual(poolPages);
  const done = events.find((e) => e.type === 'done');
  if (done?.type === 'done') expect(done.stats.pool.peakPages).toBeLessThanOrEqual(poolPages);
}

/** Every block of `image` equals the same block of `expected`. */
export function expectSameBytes(actual: (block: string) => Uint8Array, expected: Map<string, Uint8Array>): void {
  for (const [name, bytes] of expected) {
    const got = actual(name);
    expect(got.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(bytes))).toBe(0);
  }
}

/** A copy of every block, as memory holds it now. */
export function copyBlocks(memory: PagedMemory): Map<string, Uint8Array> {
  return new Map(memory.blocks.map((b) => [b.name, b.bytes.slice()]));
}
