/**
 * Live backups of a SQLite database that never stops taking orders.
 *
 *   npx ts-node demos/sqlite-live-backup.ts                  (about 18 s)
 *   npx ts-node demos/sqlite-live-backup.ts --keep           (keeps the files)
 *   npx ts-node demos/sqlite-live-backup.ts --storage hdd    (a modelled device: hdd, ssd or nvme)
 *
 * A worker thread runs SQLite (wa-sqlite) on a database kept in the blocks of
 * a shared PagedMemory, every write going through bgsnap's write barrier
 * (`openSqlite(attachMemory(handle), layout)`), and takes orders as fast as
 * it can (demos/sqlite/shop.ts). Every 3 seconds the main thread takes a
 * snapshot of those blocks to a file in a temporary folder, alternating the
 * `copy` and `queue` strategies. For each it prints the orders per second
 * before and during the snapshot, and the writer thread's longest stall (its
 * longest single write) and longest transaction. Then it turns the last
 * snapshot into ordinary files and checks them with the stock sqlite3.
 *
 * The files go to this machine's disk; the demo prints how long each
 * snapshot took and how large the database is. `--storage` puts a modelled
 * device (ThrottledSink) in between, which keeps a core busy in real time on
 * `ssd` and `nvme`; on `hdd` a `copy` snapshot runs much longer, as every page
 * the writer copies becomes an 8 ms write of its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { lastValueFrom, tap } from 'rxjs';
import { FileSink, snapshot, storageProfiles, ThrottledSink, type SnapshotStats, type StorageProfileName, type StrategyName } from 'bgsnap';
import { exportSqliteFiles, sqliteLayout, sqliteMemory } from 'bgsnap/sqlite';
import { CHECK_SQL, Field, LOG_ENTRIES, LOG_FIELDS, WORDS, Word, soundShop, type ShopData, type ShopReply, type ShopSize } from './sqlite/shop';

const SNAPSHOTS = 4;
const EVERY_MS = 3000;
const keep = process.argv.includes('--keep');
const storageAt = process.argv.indexOf('--storage');
const STORAGE = storageAt >= 0 ? process.argv[storageAt + 1] : undefined;
if (STORAGE !== undefined && !Object.hasOwn(storageProfiles, STORAGE)) throw new Error(`--storage takes ${Object.keys(storageProfiles).join(', ')}`);

// The shop: 100,000 items and customers to start with (about 6 MiB), then
// about 90 bytes more per order taken, up to the last 300,000 orders kept.
const SIZE: ShopSize = { items: 100_000, customers: 100_000, keep: 300_000 };
// The database's blocks: 64 MiB for the database file, 4 MiB for its
// rollback journal (plenty for one order), and a page of metadata.
const layout = sqliteLayout({ dbBytes: 64 << 20, journalBytes: 4 << 20 });
const memory = sqliteMemory(layout);
const dir = mkdtempSync(join(tmpdir(), 'bgsnap-sqlite-demo-'));

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (n: number): string => (n < 1 ? `${(n * 1000).toFixed(0)} µs` : `${n.toFixed(n < 10 ? 1 : 0)} ms`);

async function main(): Promise<void> {
  // The SQLite thread, sharing the memory and two SharedArrayBuffers: control words, and its log of transactions.
  const control = new Int32Array(new SharedArrayBuffer(WORDS * 4));
  const log = new Float64Array(new SharedArrayBuffer(LOG_ENTRIES * LOG_FIELDS * 8));
  const worker = new Worker(join(__dirname, 'sqlite/worker.ts'), {
    workerData: { size: SIZE, handle: memory.share(), layout, control: control.buffer, log: log.buffer } satisfies ShopData,
    execArgv: ['--require', 'ts-node/register/transpile-only'],
  });
  const replies: ShopReply[] = [];
  worker.on('message', (reply: ShopReply) => replies.push(reply));
  worker.on('error', (error) => {
    console.error('the SQLite thread failed:', error);
    process.exit(1);
  });
  while (replies.length === 0) await sleep(10);
  const committed = (): number => Atomics.load(control, Word.Committed);
  const entry = (seq: number, field: number): number => log[(seq % LOG_ENTRIES) * LOG_FIELDS + field] as number;
  console.log(`SQLite thread ready: ${layout.db.size >> 20} MiB database block, snapshots to ${dir}\n`);

  let last = '';
  for (let n = 1; n <= SNAPSHOTS; n++) {
    const strategy: StrategyName = n % 2 === 1 ? 'copy' : 'queue';
    // Orders per second in the second before the snapshot.
    await sleep(EVERY_MS - 1000);
    const [beforeAt, beforeSeq] = [now(), committed()];
    await sleep(1000);
    const [startAt, startSeq] = [now(), committed()];

    last = join(dir, `shop-${n}.bgsnap`);
    let stats: SnapshotStats | undefined;
    // The file, on this machine's disk or on a modelled device with as many writes in flight as it
    // takes at once (so that a fault's write waits behind those at most).
    const profile = STORAGE === undefined ? undefined : storageProfiles[STORAGE as StorageProfileName];
    const file = new FileSink(last, { capacity: profile?.queueDepth });
    const sink = profile === undefined ? file : new ThrottledSink(file, { profile });
    await lastValueFrom(snapshot(memory, sink, { strategy }).pipe(tap((e) => e.type === 'done' && (stats = e.stats))));
    const [endAt, endSeq] = [now(), committed()];

    // The transactions that overlapped the snapshot: their longest latency and longest single write (a stall).
    while (committed() === endSeq) await sleep(1);
    let longestTxn = 0;
    let longestStall = 0;
    for (let seq = startSeq + 1; seq <= committed() && entry(seq, Field.CommitAt) - entry(seq, Field.LatencyMs) <= endAt; seq++) {
      longestTxn = Math.max(longestTxn, entry(seq, Field.LatencyMs));
      longestStall = Math.max(longestStall, entry(seq, Field.LongestWriteMs));
    }
    const tpsBefore = ((startSeq - beforeSeq) * 1000) / (startAt - beforeAt);
    const tpsDuring = ((endSeq - startSeq) * 1000) / (endAt - startAt);
    const s = stats as SnapshotStats;
    console.log(
      `#${n} ${strategy.padEnd(5)} ${ms(s.durationMs)} | orders/s before ${tpsBefore.toFixed(0)}, during ${tpsDuring.toFixed(0)} ` +
        `| writer: longest stall ${ms(longestStall)} (t0 pause ${ms(s.t0PauseMs)}), longest transaction ${ms(longestTxn)} ` +
        `| ${s.faults} faults, ${s.saved.copy} pages copied`,
    );
  }

  // Stop the thread; its own account of what the snapshots cost it.
  Atomics.store(control, Word.Stop, 1);
  while (!replies.some((r) => r.type === 'stopped')) await sleep(10);
  const stopped = replies.find((r): r is Extract<ShopReply, { type: 'stopped' }> => r.type === 'stopped');
  const f = stopped?.faults;
  if (f !== undefined) {
    console.log(
      `\nwriter thread: ${stopped?.orders} orders, ${f.count} faults (${f.selfCopied} pages it copied itself), ` +
        `stall per fault p50 ${ms(f.stall.p50)}, p99 ${ms(f.stall.p99)}, max ${ms(f.stall.max)}; longest t0 pause ${ms(f.longestPauseMs)}`,
    );
  }
  await worker.terminate();

  // The last snapshot as files sqlite3 opens: it rolls back the journal of a transaction under way at t0.
  const out = await exportSqliteFiles(last, dir, { name: 'shop' });
  console.log(`\nexported ${out.db.path} (${out.db.bytes} bytes)${out.journal ? ` and its hot journal (${out.journal.bytes} bytes)` : ''}`);
  const check = spawnSync('sqlite3', [out.db.path], { input: CHECK_SQL, encoding: 'utf8' });
  if (check.error !== undefined) {
    console.log(`sqlite3 did not run (${check.error.message}); check the file with: sqlite3 ${out.db.path} 'PRAGMA integrity_check'`);
  } else {
    const line = check.stdout.trim();
    const orders = Number(line.split('|')[1]);
    const sound = line === soundShop(orders, SIZE);
    console.log(`sqlite3: ${line}  →  ${sound ? `sound: integrity ok, ${orders} orders, stock and sales agree` : 'NOT SOUND'}`);
    if (!sound) process.exitCode = 1;
  }
  if (keep) console.log(`files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
