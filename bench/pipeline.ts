/**
 * bench/pipeline: what the pipeline costs per bulk page.
 *
 * In one run, side by side and interleaved, over an idle 1 GiB memory (4 KiB pages):
 *   - `snapshot()` into a MemorySink (synchronous writes, 256 KiB runs, copy strategy);
 *   - a plain loop copying the same bytes in the same 256 KiB runs into a buffer;
 *   - a plain loop copying them page by page.
 * Destinations are pre-touched, so first-touch page faults do not count. Prints
 * medians of several runs, the overhead per page and the ratio, and the longest
 * event-loop block seen during the snapshots (perf_hooks.monitorEventLoopDelay).
 * Then a snapshot with an in-process writer that keeps writing, to show it runs
 * and faults meanwhile.
 *
 *   npm run bench:pipeline            (GIB=1 RUNS=7 by default)
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { lastValueFrom } from 'rxjs';
import { MemorySink, PagedMemory, snapshot, type SnapshotStats } from '../src';
import { median, printTable, timed } from './support';

const GIB = Number(process.env.GIB ?? 1);
const RUNS = Number(process.env.RUNS ?? 7);
const PAGE = 4096;
const RUN = 256 * 1024;
const size = GIB * 1024 ** 3;
const pages = size / PAGE;

async function main(): Promise<void> {
  console.log(`bench/pipeline: ${GIB} GiB, ${pages} pages of ${PAGE} B, ${RUNS} runs each, node ${process.version}`);
  const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size }] });
  const ram = memory.block('ram').bytes;
  for (let o = 0; o < size; o += PAGE) ram.fill((o / PAGE) & 0xff || 1, o, o + PAGE);
  const sink = new MemorySink();
  const target = new Uint8Array(size).fill(1);

  const snap = async (): Promise<SnapshotStats> => {
    const events = await lastValueFrom(snapshot(memory, sink, { strategy: 'copy' }));
    if (events.type !== 'done') throw new Error('no done event');
    return events.stats;
  };
  await snap(); // Warm-up: allocates and touches the sink's image, compiles the hot paths.

  const times = { snapshot: [] as number[], runLoop: [] as number[], pageLoop: [] as number[] };
  let longestBlock = 0;
  for (let i = 0; i < RUNS; i++) {
    // A fresh monitor per run, started after the loop has refreshed its clock:
    // a re-enabled one charges the blocking plain loops below to the next snapshot.
    await new Promise((r) => setTimeout(r, 5));
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    times.snapshot.push(await timed(snap));
    delay.disable();
    longestBlock = Math.max(longestBlock, delay.max / 1e6);
    times.runLoop.push(
      await timed(() => {
        for (let o = 0; o < size; o += RUN) target.set(ram.subarray(o, o + RUN), o);
      }),
    );
    times.pageLoop.push(
      await timed(() => {
        for (let o = 0; o < size; o += PAGE) target.set(ram.subarray(o, o + PAGE), o);
      }),
    );
  }
  const ms = { snapshot: median(times.snapshot), runLoop: median(times.runLoop), pageLoop: median(times.pageLoop) };
  const nsPerPage = (t: number) => (t * 1e6) / pages;
  printTable([
    ['what', 'median ms', 'ns/page', 'vs 256 KiB loop'],
    ['snapshot() → MemorySink', ms.snapshot, nsPerPage(ms.snapshot), ms.snapshot / ms.runLoop],
    ['plain loop, 256 KiB copies', ms.runLoop, nsPerPage(ms.runLoop), 1],
    ['plain loop, 4 KiB copies', ms.pageLoop, nsPerPage(ms.pageLoop), ms.pageLoop / ms.runLoop],
  ]);
  const overhead = nsPerPage(ms.snapshot - ms.runLoop);
  console.log(`pipeline overhead per bulk page: ${overhead.toFixed(1)} ns (goal ≤ 100 ns)`);
  console.log(`longest event-loop block during snapshots: ${longestBlock.toFixed(1)} ms (goal ≤ 20 ms)`);

  // The defaults, by measurement: run size against per-page cost, turn size against event-loop block.
  const sweep: (string | number)[][] = [['runBytes / turnBytes', 'median ms', 'ns/page', 'longest block ms']];
  for (const [runBytes, turnBytes] of [[64 << 10, 4 << 20], [256 << 10, 4 << 20], [1 << 20, 4 << 20], [256 << 10, 16 << 20], [256 << 10, 64 << 20]] as const) {
    const t: number[] = [];
    let block = 0;
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 5));
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      t.push(await timed(() => lastValueFrom(snapshot(memory, sink, { runBytes, turnBytes }))));
      delay.disable();
      block = Math.max(block, delay.max / 1e6);
    }
    sweep.push([`${runBytes >> 10} KiB / ${turnBytes >> 20} MiB`, median(t), nsPerPage(median(t)), block]);
  }
  printTable(sweep);

  // An in-process writer keeps writing while a snapshot runs, and faults: under each strategy.
  const rows: (string | number)[][] = [['with a writer', 'writes', 'ms', 'faults', 'stall p50 µs', 'p99 µs', 'max µs', 'pool peak']];
  for (const strategy of ['queue', 'copy'] as const) {
    let writes = 0;
    let running = true;
    const writer = async () => {
      let x = 1;
      while (running) {
        for (let i = 0; i < 64; i++) {
          x = (x * 1103515245 + 12345) >>> 0;
          void memory.write('ram', (x % pages) * PAGE, new Uint8Array([x & 0xff]));
          writes++;
        }
        await new Promise((r) => setImmediate(r));
      }
    };
    const writing = writer();
    const events = await lastValueFrom(snapshot(memory, sink, { strategy }));
    running = false;
    await writing;
    if (events.type !== 'done') throw new Error('no done event');
    const { stats } = events;
    const us = (ms: number) => ms * 1000;
    rows.push([strategy, writes, stats.durationMs, stats.faults, us(stats.stall.p50), us(stats.stall.p99), us(stats.stall.max), stats.pool.peakPages]);
  }
  printTable(rows);
}

void main();
