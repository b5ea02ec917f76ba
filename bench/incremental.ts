/**
 * bench/incremental: incremental snapshots against full ones, in one run.
 *
 * A PagedMemory of 1 GiB (4 KiB pages) with data in every page, shared with
 * one writer thread (bench/incremental/writer.ts), so that every t0 is a
 * real safe point. Then:
 *   - full snapshots to a file (FileSink, no throttling: storage `none`),
 *     `--fulls` of them;
 *   - a chain: one full snapshot, then `--links` incremental ones, each after
 *     the writer wrote 8 bytes into each of 1% of the pages, drawn at random
 *     (2,621 pages, 10.24 MiB at 1 GiB);
 *   - the same into a sink that discards, the pipeline alone;
 *   - for each incremental snapshot: its time against the full ones' median,
 *     its file's size against the written pages' bytes, its t0 pause;
 *   - the writer's cost of tracking, no snapshot running, over 512 pages
 *     that stay in the caches (201 rounds, medians): the first write to a
 *     clean page (one compare-and-exchange on the barrier's slow path), a
 *     write to a page already written, a plain store past the barrier, and,
 *     for the alternative, a store per write to a dirty map;
 *   - restoring the base with all the links (`restore(chain)`) against the
 *     base alone, `--rounds` times each, alternating;
 *   - `merge` of the chain into one full file against copying the base file
 *     (`fs.copyFile`), and against that copy synced (`merge` syncs its file
 *     before it names it, as every snapshot file is), `--rounds` times each,
 *     in a rotating order.
 * Medians with min–max; the goals beside them.
 *
 *   npm run bench:incremental                         (1 GiB, 5 fulls, 10 links, 5 rounds)
 *   npm run bench:incremental -- --gib 0.25 --rounds 3
 */
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { copyFile, open, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { lastValueFrom, filter } from 'rxjs';
import { FileSink, merge, PagedMemory, restore, snapshot, type DoneEvent, type SnapshotStats } from '../src';
import { DiscardSink } from '../src/sim/DiscardSink';
import { median, printTable } from './support';
import type { WriterCommand, WriterReply } from './incremental/writer';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : (process.env[name.toUpperCase()] ?? fallback);
}

const GIB = Number(option('gib', '1'));
const FULLS = Number(option('fulls', '5'));
const LINKS = Number(option('links', '10'));
const ROUNDS = Number(option('rounds', '5'));
const PAGE = 4096;
/** The share of pages written between two snapshots. */
const WRITTEN = 0.01;

/** Nanoseconds per write, as the writer thread measured them. */
interface Tracking {
  readonly firstNs: number;
  readonly againNs: number;
  readonly plainNs: number;
  readonly loadNs: number;
  readonly storeNs: number;
}


async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bgsnap-incremental-'));
  console.log(`bench/incremental: ${GIB} GiB of ${PAGE / 1024} KiB pages, ${(WRITTEN * 100).toFixed(0)}% written between snapshots, ` +
    `${FULLS} full snapshots, a chain of 1 + ${LINKS}, ${ROUNDS} rounds of restore and merge; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
    `load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}; files in ${dir}`);
  const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: Math.round(GIB * 2 ** 30) }] });
  fill(memory);
  const worker = new Worker(join(__dirname, 'incremental', 'writer.ts'), {
    workerData: { handle: memory.share() },
    execArgv: ['--require', 'ts-node/register/transpile-only'],
  });
  let pending: { resolve: (reply: WriterReply) => void; reject: (error: unknown) => void } | undefined;
  worker.on('message', (reply: WriterReply) => pending?.resolve(reply));
  worker.on('error', (error) => pending?.reject(error));
  const ask = (command?: WriterCommand): Promise<WriterReply> =>
    new Promise((resolve, reject) => {
      pending = { resolve, reject };
      if (command !== undefined) worker.postMessage(command);
    });
  try {
    await ask();
    const written = Math.round(memory.pageCount * WRITTEN);
    let seed = 1;
    const draw = (): Uint32Array => randomPages(memory.pageCount, written, seed++);

    // Step 1: full snapshots, each to a file of its own, removed after.
    const fulls: SnapshotStats[] = [];
    for (let i = 0; i < FULLS; i++) {
      await ask({ type: 'write', pages: draw(), seed });
      const file = join(dir, `full-${i}.bgsnap`);
      fulls.push(await take(memory, file, false));
      await rm(file);
    }

    // Step 2: the chain, the writer writing 1% of the pages before each link.
    const chain = [join(dir, 'chain.0.bgsnap')];
    await take(memory, chain[0] as string, false);
    const links: { stats: SnapshotStats; fileBytes: number; writtenPages: number }[] = [];
    for (let i = 1; i <= LINKS; i++) {
      const pages = draw();
      await ask({ type: 'write', pages, seed });
      const file = join(dir, `chain.${i}.bgsnap`);
      chain.push(file);
      const stats = await take(memory, file, true);
      links.push({ stats, fileBytes: statSync(file).size, writtenPages: pages.length });
    }

    // Step 2b: the pipeline alone, into a sink that discards: full snapshots, then incremental
    // ones (each after 1% of the pages were written); the chain above is done with.
    const discardFull: number[] = [];
    const discardIncremental: number[] = [];
    for (let i = 0; i < FULLS; i++) discardFull.push((await take(memory, undefined, false)).durationMs);
    for (let i = 0; i < LINKS; i++) {
      await ask({ type: 'write', pages: draw(), seed });
      discardIncremental.push((await take(memory, undefined, true)).durationMs);
    }

    // Step 3: the writer's cost of tracking, no snapshot running (the pages stay in the caches).
    const tracking: Tracking[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const measured = await ask({ type: 'measure', pages: randomPages(memory.pageCount, 512, seed++), rounds: 201 });
      if (measured.type === 'measured') tracking.push(measured);
    }
    memory.forgetSnapshots();

    // Step 4: restore of the chain against the base alone, alternating.
    const target = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: memory.blocks[0]!.size }] });
    const restoreBase: number[] = [];
    const restoreChain: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? ['base', 'chain'] : ['chain', 'base'];
      for (const which of order) {
        const start = performance.now();
        await restore(which === 'base' ? (chain[0] as string) : chain, target);
        (which === 'base' ? restoreBase : restoreChain).push(performance.now() - start);
      }
    }

    // Step 5: merge of the chain into one full file against copying the base file, alternating.
    const mergeMs: number[] = [];
    const copyMs: number[] = [];
    const syncedCopyMs: number[] = [];
    {
      for (let r = 0; r < ROUNDS; r++) {
        const kinds = ['copy', 'synced', 'merge'] as const;
        for (let k = 0; k < kinds.length; k++) {
          const which = kinds[(r + k) % kinds.length] as (typeof kinds)[number];
          const out = join(dir, `${which}.bgsnap`);
          const start = performance.now();
          if (which === 'merge') await merge(chain, out);
          else await copyFile(chain[0] as string, out);
          // A merged file is synced before it is named, as every snapshot file is: so is this copy.
          if (which === 'synced') {
            const handle = await open(out, 'r+');
            await handle.sync();
            await handle.close();
          }
          (which === 'copy' ? copyMs : which === 'synced' ? syncedCopyMs : mergeMs).push(performance.now() - start);
          await rm(out);
        }
      }
    }

    report(fulls, links, tracking, { restoreBase, restoreChain, mergeMs, copyMs, syncedCopyMs, discardFull, discardIncremental });
  } finally {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One snapshot to `file`, unthrottled, or with no file into a sink that
 * discards; its stats. The file system is flushed first (`sync`), outside the
 * timing: a snapshot's `fsync` then waits for its own file, not for what
 * earlier steps left dirty (ext4 commits every file's dirty data with it).
 */
async function take(memory: PagedMemory, file: string | undefined, incremental: boolean): Promise<SnapshotStats> {
  if (file !== undefined) spawnSync('sync');
  const sink = file === undefined ? new DiscardSink(16) : new FileSink(file, { overwrite: true });
  const done = await lastValueFrom(snapshot(memory, sink, { incremental }).pipe(filter((e): e is DoneEvent => e.type === 'done')));
  return done.stats;
}


function report(
  fulls: readonly SnapshotStats[],
  links: readonly { stats: SnapshotStats; fileBytes: number; writtenPages: number }[],
  tracking: readonly Tracking[],
  timings: { restoreBase: number[]; restoreChain: number[]; mergeMs: number[]; copyMs: number[]; syncedCopyMs: number[]; discardFull: number[]; discardIncremental: number[] },
): void {
  const spread = (values: readonly number[], digits = 2): string =>
    values.length === 0 ? '-' : `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
  const fullMs = fulls.map((s) => s.durationMs);
  const linkMs = links.map((l) => l.stats.durationMs);
  const sizeRatio = links.map((l) => l.fileBytes / (l.writtenPages * PAGE + 64 * 1024));
  const overhead = links.map((l) => l.fileBytes / (l.writtenPages * PAGE));
  const speedup = linkMs.map((ms) => median(fullMs) / ms);
  const pauses = links.map((l) => l.stats.t0PauseMs);
  const firstCost = tracking.map((t) => t.firstNs - t.againNs);
  const againCost = tracking.map((t) => t.againNs - t.plainNs);
  const restoreRatio = timings.restoreChain.map((ms, i) => ms / (timings.restoreBase[i] as number));
  const mergeRatio = timings.mergeMs.map((ms, i) => ms / (timings.copyMs[i] as number));
  const mergeSyncedRatio = timings.mergeMs.map((ms, i) => ms / (timings.syncedCopyMs[i] as number));
  console.log('\nsnapshots (ms)');
  printTable([
    ['', 'median (min–max)'],
    ['full snapshot', spread(fullMs, 1)],
    ['incremental snapshot', spread(linkMs, 1)],
    ['pages in an incremental', spread(links.map((l) => l.stats.totalPages), 0)],
    ['full, into a sink that discards', spread(timings.discardFull, 1)],
    ['incremental, into a sink that discards', spread(timings.discardIncremental, 1)],
    ['t0 pause, incremental (ms)', spread(pauses, 3)],
    ['t0 pause, full (ms)', spread(fulls.map((s) => s.t0PauseMs), 3)],
  ]);
  console.log('\nwriter (ns per write, no snapshot running, 512 pages in the caches)');
  printTable([
    ['', 'median (min–max)'],
    ['first write to a clean page', spread(tracking.map((t) => t.firstNs), 1)],
    ['write to a written page', spread(tracking.map((t) => t.againNs), 1)],
    ['plain store, no barrier', spread(tracking.map((t) => t.plainNs), 1)],
    ['plain store after a load of the page state', spread(tracking.map((t) => t.loadNs), 1)],
    ['  and a store per write to a dirty map', spread(tracking.map((t) => t.storeNs), 1)],
  ]);
  console.log('\nrestore and merge (ms)');
  printTable([
    ['', 'median (min–max)'],
    ['restore, base alone', spread(timings.restoreBase, 0)],
    [`restore, base + ${links.length}`, spread(timings.restoreChain, 0)],
    ['copy the base file', spread(timings.copyMs, 0)],
    ['copy the base file, then fsync', spread(timings.syncedCopyMs, 0)],
    [`merge base + ${links.length}`, spread(timings.mergeMs, 0)],
  ]);
  console.log('\ngoals');
  printTable([
    ['measure', 'goal', 'measured: median (min–max)', 'met'],
    ['incremental file ÷ (written bytes + 64 KiB)', '≤ 1.05', spread(sizeRatio, 3), met(median(sizeRatio) <= 1.05)],
    ['  (file ÷ written bytes)', '', spread(overhead, 3), ''],
    ['full time ÷ incremental time', '≥ 50', spread(speedup, 1), met(median(speedup) >= 50)],
    ['  the same, the pipeline alone (sink discards)', '', spread(timings.discardIncremental.map((ms) => median(timings.discardFull) / ms), 1), ''],
    ['t0 pause, incremental', '≤ 1 ms', spread(pauses, 3), met(median(pauses) <= 1)],
    ['first write to a clean page, over a written one', '≤ 2000 ns', spread(firstCost, 1), met(median(firstCost) <= 2000)],
    ['write to a written page, over a plain store', '≤ +10 ns', spread(againCost, 1), met(median(againCost) <= 10)],
    ['  (a store per write to a dirty map, over a load and a store)', '', spread(tracking.map((t) => t.storeNs - t.loadNs), 1), ''],
    [`restore base + ${links.length} ÷ base alone`, '≤ 1.1', spread(restoreRatio, 3), met(restoreRatio.length > 0 && median(restoreRatio) <= 1.1)],
    [`merge base + ${links.length} ÷ copying the base`, '≤ 1.2', spread(mergeRatio, 3), met(mergeRatio.length > 0 && median(mergeRatio) <= 1.2)],
    ['  (÷ copying the base, then fsync)', '', spread(mergeSyncedRatio, 3), ''],
  ]);
}

function met(ok: boolean): string {
  return ok ? 'yes' : 'no';
}

/** `count` distinct pages out of `pages`, at random (a seeded xorshift). */
function randomPages(pages: number, count: number, seed: number): Uint32Array {
  const chosen = new Set<number>();
  let s = (seed * 0x9e3779b1) >>> 0 || 1;
  while (chosen.size < count) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    chosen.add((s >>> 0) % pages);
  }
  return Uint32Array.from(chosen);
}

/** Data in every page: a random MiB repeated, each page stamped with its number. */
function fill(memory: PagedMemory): void {
  for (const block of memory.blocks) {
    const pattern = randomFillSync(new Uint8Array(Math.min(block.size, 1 << 20)));
    for (let at = 0; at < block.size; at += pattern.length) block.bytes.set(pattern.subarray(0, block.size - at), at);
    const view = new DataView(block.bytes.buffer);
    for (let page = 0; page < block.pages; page++) view.setUint32(page * memory.pageSize, page + 1, true);
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
