/**
 * bench/restore: live restore's goals, measured side by side in one run and
 * printed as ratios against their goals. Files in the page cache (storage
 * `none`), 4 KiB pages, 256 KiB records (the snapshot's default bulk run).
 *
 *   1. subscribe → `started` for a 1 GiB file and a 16 GiB one (a valid
 *      header over a sparse file: `started` reads only the header), median
 *      of RUNS. Goal: ≤ 5 ms, not growing with size.
 *   2. A fault's wait while the background pass runs flat out: one worker
 *      reads a word of a random page every 200 µs during a 1 GiB live
 *      restore, from `indexed` (the record table known) to `done`; the loader's fault wait (first fault → loaded) and the
 *      worker's own stall (blocked → woken), p50 / p99 / max, worst of RUNS.
 *      Goal: p99 ≤ 1 ms.
 *   3. Background load throughput (1 GiB, no faults, subscribe → `done`) ÷
 *      eager `restore` throughput, medians of RUNS. Goal: ≥ 0.8.
 *   4. A worker's first write, 1 GiB guest: from the start of the restore
 *      (subscribe, or the call to `restore`) to the worker's write done, on
 *      a random page; eager ÷ live, medians of RUNS. Goal: ≥ 100.
 *
 *   npm run bench:restore        (RUNS=3 by default)
 */
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { lastValueFrom } from 'rxjs';
import { FileSink, PagedMemory, restore, restoreLive, snapshot, type RestoreStats, type StallSummary } from '../src';
import { encodeHeader } from '../src/format/encode';
import { layoutBlocks } from '../src/memory/geometry';
import { median, printTable } from './support';

const RUNS = Math.max(1, Number(process.env.RUNS ?? 3));
const GIB = 2 ** 30;
const PAGE = 4096;
const dir = mkdtempSync(join(tmpdir(), 'bgsnap-bench-restore-'));

/** A 1 GiB guest image with data in every page, snapshotted to a file. */
async function imageFile(): Promise<string> {
  const memory = new PagedMemory({ blocks: [{ name: 'ram', size: GIB }] });
  const bytes = memory.block('ram').bytes;
  const pattern = randomFillSync(new Uint8Array(1 << 20));
  for (let at = 0; at < GIB; at += pattern.length) bytes.set(pattern, at);
  const view = new DataView(bytes.buffer);
  for (let p = 0; p < GIB / PAGE; p++) view.setUint32(p * PAGE, p + 1, true);
  const path = join(dir, '1g.bgsnap');
  await lastValueFrom(snapshot(memory, new FileSink(path)));
  return path;
}

/** A valid header for 16 GiB (four 4 GiB blocks) over a sparse file of that size. */
async function sparseFile(): Promise<{ path: string; blocks: { name: string; size: number }[] }> {
  const blocks = [0, 1, 2, 3].map((i) => ({ name: `ram${i}`, size: 4 * GIB }));
  const header = encodeHeader({ pageSize: PAGE, blocks: layoutBlocks(blocks, PAGE), t0: 0, wallTime: Date.now(), strategy: 'copy' });
  const path = join(dir, '16g.bgsnap');
  const handle = await open(path, 'w');
  await handle.write(header, 0, header.length, 0);
  await handle.truncate(16 * GIB + 2 ** 20);
  await handle.close();
  return { path, blocks };
}

/** ms from subscribe to `started`; the restore is cancelled then. */
function toStarted(path: string, memory: PagedMemory): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const sub = restoreLive(path, memory).subscribe({
      next: (e) => {
        if (e.type !== 'started') return;
        const ms = performance.now() - start;
        queueMicrotask(() => sub.unsubscribe());
        resolve(ms);
      },
      error: reject,
    });
  });
}

function startWorker(memory: PagedMemory, stop: SharedArrayBuffer): Promise<Worker> {
  const worker = new Worker(require.resolve('./workers/restoreToucher.ts'), {
    workerData: { handle: memory.share(), stop },
    execArgv: ['--require', 'ts-node/register/transpile-only'],
  });
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve(worker));
    worker.once('error', reject);
  });
}

function next<T>(worker: Worker): Promise<T> {
  return new Promise((resolve) => worker.once('message', resolve));
}

async function liveToDone(path: string, memory: PagedMemory, onStarted?: () => void, onIndexed?: () => void): Promise<{ ms: number; stats: RestoreStats }> {
  const start = performance.now();
  let stats: RestoreStats | undefined;
  await new Promise<void>((resolve, reject) =>
    restoreLive(path, memory).subscribe({
      next: (e) => {
        if (e.type === 'started') onStarted?.();
        if (e.type === 'indexed') onIndexed?.();
        if (e.type === 'done') stats = e.stats;
      },
      error: reject,
      complete: resolve,
    }),
  );
  return { ms: performance.now() - start, stats: stats as RestoreStats };
}

async function main(): Promise<void> {
  console.log(`bench/restore: RUNS=${RUNS}, files under ${dir}`);
  const path = await imageFile();
  const sparse = await sparseFile();
  const guest = new PagedMemory({ blocks: [{ name: 'ram', size: GIB }] });
  const big = new PagedMemory({ blocks: sparse.blocks });
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = await startWorker(guest, stop.buffer as SharedArrayBuffer);

  // 1. subscribe → started.
  const tableMs: number[] = [];
  const started1: number[] = [];
  const started16: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const a = await toStarted(path, guest);
    const b = await toStarted(sparse.path, big);
    if (i > 0) (started1.push(a), started16.push(b)); // the first is a warm-up
  }
  guest.forgetSnapshots();

  // 2. fault waits while the background pass runs flat out.
  let worstLoader: StallSummary | undefined;
  let worstWorker: StallSummary | undefined;
  const touched: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    Atomics.store(stop, 0, 0);
    const answer = next<{ faults: { count: number; stall: StallSummary } }>(worker);
    const { stats } = await liveToDone(path, guest, undefined, () => worker.postMessage({ touch: { pages: GIB / PAGE, everyUs: 200, seed: i + 1 } }));
    Atomics.store(stop, 0, 1);
    const { faults } = await answer;
    touched.push(faults.count);
    if (worstLoader === undefined || stats.faultWait.p99 > worstLoader.p99) worstLoader = stats.faultWait;
    if (worstWorker === undefined || faults.stall.p99 > worstWorker.p99) worstWorker = faults.stall;
  }

  // 3. throughput, live (no faults) against eager, interleaved.
  const live: number[] = [];
  const eager: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await liveToDone(path, guest);
    live.push(run.ms);
    tableMs.push(run.stats.tableMs);
    const start = performance.now();
    await restore(path, guest);
    eager.push(performance.now() - start);
  }

  // 4. a worker's first write after the start of a restore.
  const firstLive: number[] = [];
  const firstEager: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const page = Math.floor(Math.random() * (GIB / PAGE));
    let start = performance.timeOrigin + performance.now();
    const wrote = next<{ at: number }>(worker);
    await liveToDone(path, guest, () => worker.postMessage({ first: page }));
    firstLive.push((await wrote).at - start);
    start = performance.timeOrigin + performance.now();
    await restore(path, guest);
    guest.forgetSnapshots();
    worker.postMessage({ first: page });
    firstEager.push((await next<{ at: number }>(worker)).at - start);
  }
  await worker.terminate();

  const ratio = (a: number, b: number) => (b === 0 ? Infinity : a / b);
  const l = worstLoader as StallSummary;
  const w = worstWorker as StallSummary;
  printTable([
    ['goal', 'measured', 'target', 'met'],
    ['subscribe → started, 1 GiB (ms, median)', median(started1), '≤ 5', median(started1) <= 5 ? 'yes' : 'no'],
    ['subscribe → started, 16 GiB (ms, median)', median(started16), '≤ 5', median(started16) <= 5 ? 'yes' : 'no'],
    ['started → indexed, 1 GiB, page index (ms, median)', median(tableMs), '', ''],
    [`fault wait, loader p50/p99/max (ms; ${median(touched)} faults)`, `${l.p50.toFixed(3)} / ${l.p99.toFixed(3)} / ${l.max.toFixed(3)}`, 'p99 ≤ 1', l.p99 <= 1 ? 'yes' : 'no'],
    ['fault stall, worker p50/p99/max (ms)', `${w.p50.toFixed(3)} / ${w.p99.toFixed(3)} / ${w.max.toFixed(3)}`, 'p99 ≤ 1', w.p99 <= 1 ? 'yes' : 'no'],
    [`live load ÷ eager restore throughput (${median(live).toFixed(0)} ms vs ${median(eager).toFixed(0)} ms)`, ratio(median(eager), median(live)), '≥ 0.8', ratio(median(eager), median(live)) >= 0.8 ? 'yes' : 'no'],
    [`first write, eager ÷ live (${median(firstEager).toFixed(1)} ms vs ${median(firstLive).toFixed(2)} ms)`, ratio(median(firstEager), median(firstLive)), '≥ 100', ratio(median(firstEager), median(firstLive)) >= 100 ? 'yes' : 'no'],
  ]);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
