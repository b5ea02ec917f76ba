/**
 * bench/sqlite: live backups of a SQLite database, against stopping it.
 *
 * A worker thread runs the shop of demos/sqlite (wa-sqlite on a database in
 * PagedMemory blocks: 8 MiB for the database, which levels off near 5 MiB,
 * and 1 MiB for its journal), one transaction after another at full speed,
 * once it has levelled off. Each round measures, side by side, in an order that rotates:
 *   - no backup, over 2 s;
 *   - a bgsnap snapshot under `queue`, and one under `copy`, to a file on
 *     hdd-like storage (FileSink behind ThrottledSink 'hdd', as many writes
 *     in flight as the profile's queue depth: one); and one under `queue`
 *     with FileSink's default of 16 writes in flight, which the device
 *     serves in order, so that a fault's write waits behind up to 15 bulk
 *     writes; and one under `queue` with `faultRunBytes` of 256 KiB, each
 *     fault's write also saving the unsaved pages next to it;
 *   - naive backups, which stop the writer (a flag it polls between
 *     transactions) while they copy: the three blocks written to the same
 *     hdd-like device (the bytes the snapshots write); only the files' bytes;
 *     or the blocks copied into RAM (9 MiB more memory), written out after
 *     the writer resumes.
 * For each, over the window (the snapshot from subscribe to done; the
 * writer's stop): orders per second, the orders a backup costs (those the
 * writer would have committed at its no-backup rate, less those it did), the
 * longest transaction latency (from when the transaction was due, the
 * previous one's COMMIT: one that waits for a stopped writer counts its
 * wait), the writer's longest single write (a stall), and the snapshot's
 * faults. Medians over the rounds; ratios to no backup. Every snapshot is
 * then exported and checked with sqlite3.
 *
 *   npm run bench:sqlite                  (5 rounds, about 1.5 minutes)
 *   npm run bench:sqlite -- --rounds 3    (or ROUNDS=3)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { lastValueFrom, tap } from 'rxjs';
import { CHECK_SQL, Field, LOG_ENTRIES, LOG_FIELDS, WORDS, Word, soundShop, type ShopReply, type ShopData, type ShopSize } from '../demos/sqlite/shop';
import type { SnapshotStats } from '../src/pipeline/events';
import { snapshot } from '../src/pipeline/snapshot';
import { eventLoopScheduler } from '../src/scheduling/eventLoopScheduler';
import { exportSqliteFiles, sqliteLayout, sqliteMemory } from '../src/sqlite';
import { decodeMeta, META_BYTES } from '../src/sqlite/layout';
import { FileSink } from '../src/storage/FileSink';
import { storageProfiles } from '../src/storage/profiles';
import { StorageDevice } from '../src/storage/StorageDevice';
import { ThrottledSink } from '../src/storage/ThrottledSink';
import { median, printTable } from './support';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : (process.env[name.toUpperCase()] ?? fallback);
}

const ROUNDS = Number(option('rounds', '5'));
const IDLE_MS = 2000;
/** Bytes per write of the naive backups: the snapshots' `runBytes`. */
const WRITE_BYTES = 256 << 10;
const HDD = storageProfiles.hdd;

/** The shop: 20,000 items and customers, the last 50,000 orders (about 5 MiB). */
const SIZE: ShopSize = { items: 20_000, customers: 20_000, keep: 50_000 };
/** Blocks sized to the database with room to spare, as they would be in use: 8 MiB, and 1 MiB of journal (an order journals a few pages). */
const layout = sqliteLayout({ dbBytes: 8 << 20, journalBytes: 1 << 20 });
const memory = sqliteMemory(layout);
const blocks = [layout.db, layout.journal, layout.meta].map((b) => memory.block(b.name));
const blockBytes = blocks.reduce((n, b) => n + b.size, 0);
const dir = mkdtempSync(join(tmpdir(), 'bgsnap-bench-sqlite-'));
const control = new Int32Array(new SharedArrayBuffer(WORDS * 4));
const log = new Float64Array(new SharedArrayBuffer(LOG_ENTRIES * LOG_FIELDS * 8));

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const committed = (): number => Atomics.load(control, Word.Committed);
const entry = (seq: number, field: number): number => log[(seq % LOG_ENTRIES) * LOG_FIELDS + field] as number;

const CASES = ['none', 'queue', 'queue-run', 'queue-16', 'copy', 'stop-blocks', 'stop-files', 'stop-ram'] as const;
type Case = (typeof CASES)[number];
const LABEL: Record<Case, string> = {
  none: 'no backup (2 s)',
  queue: 'bgsnap queue, hdd',
  'queue-run': 'bgsnap queue, hdd, 256 KiB fault runs',
  'queue-16': 'bgsnap queue, hdd, 16 writes in flight',
  copy: 'bgsnap copy, hdd',
  'stop-blocks': 'stop writer, write the blocks to hdd',
  'stop-files': 'stop writer, write the files to hdd',
  'stop-ram': 'stop writer, copy the blocks to RAM',
};

interface Sample {
  readonly windowMs: number;
  readonly commits: number;
  readonly tps: number;
  readonly longestTxnMs: number;
  readonly longestStallMs: number;
  readonly faults: number;
  readonly copied: number;
  readonly t0PauseMs: number;
}

/** Runs `backup` while the writer runs, and measures the writer over its window. */
async function measure(backup: () => Promise<SnapshotStats | undefined>): Promise<Sample> {
  const [startAt, startSeq] = [now(), committed()];
  const stats = await backup();
  const [endAt, endSeq] = [now(), committed()];
  // The transaction under way at the end overlaps the window: wait until it is logged.
  while (committed() === endSeq) await turn();
  let longestTxnMs = 0;
  let longestStallMs = 0;
  for (let seq = startSeq + 1; seq <= committed() && entry(seq, Field.CommitAt) - entry(seq, Field.LatencyMs) <= endAt; seq++) {
    longestTxnMs = Math.max(longestTxnMs, entry(seq, Field.LatencyMs));
    longestStallMs = Math.max(longestStallMs, entry(seq, Field.LongestWriteMs));
  }
  return {
    windowMs: endAt - startAt,
    commits: endSeq - startSeq,
    tps: ((endSeq - startSeq) * 1000) / (endAt - startAt),
    longestTxnMs,
    longestStallMs,
    faults: stats?.faults ?? 0,
    copied: stats?.saved.copy ?? 0,
    t0PauseMs: stats?.t0PauseMs ?? 0,
  };
}

/** A snapshot of the blocks to a file on hdd-like storage, with `capacity` writes in flight. */
async function bgsnap(strategy: 'queue' | 'copy', path: string, capacity: number, faultRunBytes?: number): Promise<SnapshotStats> {
  let stats: SnapshotStats | undefined;
  const sink = new ThrottledSink(new FileSink(path, { capacity }), { profile: 'hdd' });
  await lastValueFrom(snapshot(memory, sink, { strategy, faultRunBytes }).pipe(tap((e) => e.type === 'done' && (stats = e.stats))));
  return stats as SnapshotStats;
}

/** Stops the writer between two transactions, runs `copy`, and lets it go on. */
async function stopped(copy: () => Promise<void>): Promise<undefined> {
  Atomics.store(control, Word.Park, 1);
  while (Atomics.load(control, Word.Parked) === 0) await turn();
  try {
    await copy();
  } finally {
    Atomics.store(control, Word.Park, 0);
    Atomics.notify(control, Word.Park);
  }
  return undefined;
}

/** Writes `parts` to a new file in `WRITE_BYTES` writes, each also booked on an hdd model, then syncs it. */
async function writeThrottled(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const device = new StorageDevice(HDD, eventLoopScheduler);
  const file = await open(path, 'w');
  try {
    let position = 0;
    for (const part of parts) {
      for (let at = 0; at < part.length; at += WRITE_BYTES) {
        const chunk = part.subarray(at, Math.min(part.length, at + WRITE_BYTES));
        await Promise.all([file.write(chunk, 0, chunk.length, position), new Promise<void>((resolve) => device.submit(chunk.length, resolve))]);
        position += chunk.length;
      }
    }
    await file.sync();
  } finally {
    await file.close();
  }
}

/** The database and journal files' bytes now, by the metadata block (call with the writer stopped). */
function fileBytes(): Uint8Array[] {
  const files = decodeMeta(memory.read(layout.meta.name, 0, META_BYTES), layout.meta.name);
  return [memory.block(layout.db.name).bytes.subarray(0, files?.db.size ?? 0), memory.block(layout.journal.name).bytes.subarray(0, files?.journal.size ?? 0)];
}

async function main(): Promise<void> {
  if (!(ROUNDS >= 1)) throw new Error('usage: bench/sqlite.ts [--rounds <n>]');
  console.log(
    `bench/sqlite: SQLite in a worker thread, ${(blockBytes / 2 ** 20).toFixed(1)} MiB of blocks, hdd profile ${HDD.bandwidth / 1e6} MB/s ${HDD.latency} ms a write; ` +
      `${ROUNDS} rounds; node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  const worker = new Worker(join(__dirname, '../demos/sqlite/worker.ts'), {
    workerData: { size: SIZE, handle: memory.share(), layout, control: control.buffer, log: log.buffer } satisfies ShopData,
    execArgv: ['--require', 'ts-node/register/transpile-only'],
  });
  const replies: ShopReply[] = [];
  worker.on('message', (reply: ShopReply) => replies.push(reply));
  worker.on('error', (error) => {
    console.error('the SQLite thread failed:', error);
    process.exit(1);
  });
  // Warm up until the database has levelled off (it keeps the last `keep` orders).
  while (committed() < SIZE.keep) await sleep(50);
  // The RAM copy's buffers, touched before anything is timed.
  const ram = blocks.map((b) => new Uint8Array(b.size).fill(1));

  const samples = new Map<Case, Sample[]>(CASES.map((c) => [c, []]));
  const snapshots: { path: string; strategy: string }[] = [];
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < CASES.length; k++) {
      const which = CASES[(k + round) % CASES.length] as Case;
      const path = join(dir, `${round}-${which}.bgsnap`);
      const sample = await measure(async () => {
        switch (which) {
          case 'none':
            await sleep(IDLE_MS);
            return undefined;
          case 'queue':
          case 'copy':
            snapshots.push({ path, strategy: which });
            return bgsnap(which, path, HDD.queueDepth);
          case 'queue-run':
            snapshots.push({ path, strategy: which });
            return bgsnap('queue', path, HDD.queueDepth, 256 << 10);
          case 'queue-16':
            snapshots.push({ path, strategy: which });
            return bgsnap('queue', path, 16);
          case 'stop-blocks':
            return stopped(() => writeThrottled(path, blocks.map((b) => b.bytes)));
          case 'stop-files':
            return stopped(() => writeThrottled(path, fileBytes()));
          case 'stop-ram':
            return stopped(async () => blocks.forEach((b, i) => ram[i]?.set(b.bytes)));
        }
      });
      if (which === 'stop-ram') await writeThrottled(path, ram);
      (samples.get(which) as Sample[]).push(sample);
      await sleep(300);
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS} done at ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  }

  Atomics.store(control, Word.Stop, 1);
  while (!replies.some((r) => r.type === 'stopped')) await sleep(10);
  await worker.terminate();

  const mid = (c: Case, f: (s: Sample) => number): number => median((samples.get(c) as Sample[]).map(f));
  const baseTps = mid('none', (s) => s.tps);
  const baseLatency = mid('none', (s) => s.longestTxnMs);
  console.log(`\nmedians of ${ROUNDS} rounds (window: the snapshot, from subscribe to done, or the writer's stop; latency from when a transaction was due)\n`);
  printTable([
    ['case', 'window ms', 'orders/s', '× no backup', 'orders lost', 'longest txn ms', '× no backup', 'longest write ms', 'faults', 'copied', 't0 pause ms'],
    ...CASES.map((c) => [
      LABEL[c],
      mid(c, (s) => s.windowMs),
      mid(c, (s) => s.tps),
      mid(c, (s) => s.tps) / baseTps,
      c === 'none' ? 0 : Math.round(mid(c, (s) => (baseTps * s.windowMs) / 1000 - s.commits)),
      mid(c, (s) => s.longestTxnMs),
      mid(c, (s) => s.longestTxnMs) / baseLatency,
      mid(c, (s) => s.longestStallMs),
      mid(c, (s) => s.faults),
      mid(c, (s) => s.copied),
      mid(c, (s) => s.t0PauseMs),
    ]),
  ]);
  const spread = (c: Case, f: (s: Sample) => number): string => (samples.get(c) as Sample[]).map((s) => f(s).toFixed(0)).join(', ');
  console.log(
    `\nper round, window ms: queue ${spread('queue', (s) => s.windowMs)}; queue, 256 KiB runs ${spread('queue-run', (s) => s.windowMs)}; ` +
      `copy ${spread('copy', (s) => s.windowMs)}`,
  );
  console.log(
    `per round, longest txn ms: queue ${spread('queue', (s) => s.longestTxnMs)}; copy ${spread('copy', (s) => s.longestTxnMs)}; ` +
      `stop-blocks ${spread('stop-blocks', (s) => s.longestTxnMs)}`,
  );

  // Every snapshot, as files the stock sqlite3 opens and checks.
  let sound = 0;
  for (const [i, { path, strategy }] of snapshots.entries()) {
    const out = await exportSqliteFiles(path, dir, { name: `check-${i}` });
    const check = spawnSync('sqlite3', [out.db.path], { input: CHECK_SQL, encoding: 'utf8' });
    if (check.error !== undefined) {
      console.log(`\nsqlite3 did not run (${check.error.message}): snapshots not checked`);
      break;
    }
    const line = check.stdout.trim();
    if (line === soundShop(Number(line.split('|')[1]), SIZE)) sound++;
    else console.log(`snapshot ${path} (${strategy}): ${line}: NOT SOUND`);
  }
  console.log(`\n${sound} of ${snapshots.length} snapshots exported and checked sound by sqlite3 (integrity_check ok, stock and sales agree)`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  rmSync(dir, { recursive: true, force: true });
  if (sound !== snapshots.length) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
