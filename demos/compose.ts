/**
 * Composing snapshot() into an RxJS host app.
 *
 *   npx ts-node demos/compose.ts
 *
 * The "app" is a stream of writes to a 32 MiB memory. A snapshot is taken
 * every 300 ms with `exhaustMap` (a tick that comes while one runs is
 * dropped); its progress and result are just more events in the app.
 */
import { exhaustMap, filter, interval, map, take, tap } from 'rxjs';
import { MemorySink, PagedMemory, snapshot } from 'bgsnap';

const PAGE = 4096;
const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: 32 << 20 }] });
const pages = memory.block('ram').pages;

// The app: 200 random writes every millisecond, through the write barrier.
let seed = 7;
const app$ = interval(1).pipe(
  tap(() => {
    for (let i = 0; i < 200; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      void memory.write('ram', (seed % pages) * PAGE + (seed % 1000), new Uint8Array([seed & 0xff]));
    }
  }),
);

// Three background snapshots, one per 300 ms tick; each reports when done.
const snapshots$ = interval(300).pipe(
  take(3),
  exhaustMap((n) =>
    snapshot(memory, new MemorySink(), { strategy: 'copy', poolPages: 128 }).pipe(
      filter((e) => e.type === 'done'),
      map(({ stats }) => ({ n, stats })),
    ),
  ),
);

// The app runs until the third snapshot is done.
const app = app$.subscribe();
snapshots$.subscribe({
  next: ({ n, stats }) =>
    console.log(
      `snapshot ${n}: ${stats.totalPages} pages in ${stats.durationMs.toFixed(1)} ms, ` +
        `${stats.faults} faults, writer stall p99 ${(stats.stall.p99 * 1000).toFixed(1)} µs, ` +
        `pool peak ${stats.pool.peakPages} pages`,
    ),
  complete: () => app.unsubscribe(),
});
