import { isProtected } from '../../src/memory/contract';
// Rule: a snapshot lets the memory go (every page writable, `snapshotting`
// false) before it emits `done` and completes, so the next snapshot can start
// from the `done` handler or from `complete`; `repeat` and `concatMap` chains
// keep working. Each image is memory at its own t0.
import { concatMap, filter, from, lastValueFrom, repeat, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { MemorySink, PagedMemory, snapshot, VirtualSink, type SnapshotEvent } from '../../src';
import { copyBlocks, expectSameBytes } from '../support/invariants';

const PAGE = 4096;

function memoryOf(pages: number, shared: boolean): PagedMemory {
  const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: pages * PAGE }] });
  if (shared) memory.share();
  return memory;
}

/** Writes round `round` into every page (a different byte each round). */
function stamp(memory: PagedMemory, round: number): void {
  const bytes = memory.block('ram').bytes;
  for (let p = 0; p < memory.pageCount; p++) bytes[p * PAGE + (round % PAGE)] = (round * 31 + p) & 0xff;
}

/** What each started snapshot must save, and what each one did. */
interface Round {
  readonly atT0: Map<string, Uint8Array>;
  readonly sink: MemorySink;
  /** At the end (`done` or `complete`, whichever the test chains from): no page protected, no session. */
  released?: boolean;
}

function released(memory: PagedMemory): boolean {
  return !memory.snapshotting && !memory.states.some(isProtected);
}

describe.each([false, true])('chained snapshots (shared with writer threads: %s)', (shared) => {
  it.each(['copy', 'queue'] as const)('starts the next snapshot inside complete (%s)', async (strategy) => {
    const memory = memoryOf(24, shared);
    const rounds: Round[] = [];
    await new Promise<void>((resolve, reject) => {
      const next = (): void => {
        const round: Round = { atT0: copyBlocks(memory), sink: new MemorySink() };
        rounds.push(round);
        snapshot(memory, round.sink, { strategy }).subscribe({
          error: reject,
          complete: () => {
            round.released = released(memory);
            // Writers go on between snapshots; the next one starts right here.
            stamp(memory, rounds.length);
            if (rounds.length < 3) next();
            else resolve();
          },
        });
      };
      stamp(memory, 0);
      next();
    });
    expect(rounds.length).toBe(3);
    for (const round of rounds) {
      expect(round.released).toBe(true);
      expectSameBytes((block) => round.sink.image(block), round.atT0);
    }
    expect(released(memory)).toBe(true);
  });

  it.each(['copy', 'queue'] as const)('starts the next snapshot inside the done handler (%s)', async (strategy) => {
    const memory = memoryOf(24, shared);
    const rounds: Round[] = [];
    await new Promise<void>((resolve, reject) => {
      const next = (): void => {
        const round: Round = { atT0: copyBlocks(memory), sink: new MemorySink() };
        rounds.push(round);
        snapshot(memory, round.sink, { strategy }).subscribe({
          next: (e: SnapshotEvent) => {
            if (e.type !== 'done') return;
            round.released = released(memory);
            stamp(memory, rounds.length);
            if (rounds.length < 3) next();
            else resolve();
          },
          error: reject,
        });
      };
      stamp(memory, 0);
      next();
    });
    expect(rounds.length).toBe(3);
    for (const round of rounds) {
      expect(round.released).toBe(true);
      expectSameBytes((block) => round.sink.image(block), round.atT0);
    }
    expect(released(memory)).toBe(true);
  });

  it('takes three snapshots with repeat({ count: 3 })', async () => {
    const memory = memoryOf(24, shared);
    const sink = new MemorySink();
    const expected: Map<string, Uint8Array>[] = [];
    const images: Uint8Array[] = [];
    let round = 0;
    stamp(memory, round);
    const dones = await lastValueFrom(
      snapshot(memory, sink).pipe(
        tap((e) => {
          if (e.type === 'started') expected.push(copyBlocks(memory));
          if (e.type !== 'done') return;
          images.push(sink.image('ram').slice());
          // Between snapshots the memory changes: each image must be its own t0.
          stamp(memory, ++round);
        }),
        repeat({ count: 3 }),
        filter((e) => e.type === 'done'),
        toArray(),
      ),
    );
    expect(dones.length).toBe(3);
    expect(expected.length).toBe(3);
    images.forEach((image, i) => expectSameBytes(() => image, expected[i] as Map<string, Uint8Array>));
    expect(released(memory)).toBe(true);
  });

  it('takes snapshots one after another with concatMap, into sinks that complete later', async () => {
    const memory = memoryOf(16, shared);
    const expected: Map<string, Uint8Array>[] = [];
    const sinks: MemorySink[] = [];
    stamp(memory, 0);
    const done = await lastValueFrom(
      from([1, 2, 3]).pipe(
        concatMap((round) => {
          const sink = new MemorySink();
          sinks.push(sink);
          return snapshot(memory, sink).pipe(
            tap((e) => {
              if (e.type === 'started') expected.push(copyBlocks(memory));
              if (e.type === 'done') stamp(memory, round);
            }),
          );
        }),
        filter((e) => e.type === 'done'),
        toArray(),
      ),
    );
    expect(done.length).toBe(3);
    sinks.forEach((sink, i) => expectSameBytes((block) => sink.image(block), expected[i] as Map<string, Uint8Array>));
  });
});

it('lets the memory go before done on a sink that completes asynchronously, with writes waiting', async () => {
  const { VirtualTimeScheduler } = await import('rxjs');
  const scheduler = new VirtualTimeScheduler();
  const memory = memoryOf(8, false);
  stamp(memory, 0);
  const atT0 = copyBlocks(memory);
  const sink = new VirtualSink({ scheduler, latency: 2, keepImage: true });
  let atDone: boolean | undefined;
  let second: SnapshotEvent[] = [];
  let write: Promise<void> | undefined;
  snapshot(memory, sink, { scheduler, strategy: 'queue' }).subscribe((e) => {
    if (e.type === 'started') write = memory.write('ram', 7 * PAGE, Uint8Array.of(0xee));
    if (e.type !== 'done') return;
    atDone = released(memory);
    const events: SnapshotEvent[] = [];
    second = events;
    snapshot(memory, new MemorySink(), { scheduler }).subscribe((event) => events.push(event));
  });
  scheduler.flush();
  await write;
  expect(atDone).toBe(true);
  expect(second.map((e) => e.type)).toContain('done');
  expect(sink.image('ram').subarray(7 * PAGE, 7 * PAGE + 1)[0]).toBe((atT0.get('ram') as Uint8Array)[7 * PAGE]);
});
