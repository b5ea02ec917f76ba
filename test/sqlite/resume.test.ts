// A live SQLite workload resumed from a snapshot with a live restore: the bank
// thread opens its database and keeps committing transfers while the pages
// load (reads are slowed so that the load lasts); the database then passes the
// stock sqlite3's integrity_check and the bank's invariants.
import { concatMap, lastValueFrom, timer } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileSink, restoreLive, snapshot, type PageSource, type RestoreEvent } from '../../src';
import { snapshotSource } from '../../src/restore/snapshotSource';
import { exportSqliteFiles } from '../../src/sqlite/exportFiles';
import { sqliteLayout, sqliteMemory } from '../../src/sqlite/layout';
import { tempDir } from '../storage/support';
import { until } from '../threads/support';
import { checkBank, soundBank, startBank, type Bank } from './bank';

const dir = tempDir('sqlite-resume');
afterAll(() => dir.remove());
let banks: Bank[] = [];
afterEach(async () => {
  await Promise.all(banks.map((b) => b.worker.terminate()));
  banks = [];
});

/**
 * `source` with every read started `ms` late (real time): a slow disk, so that the load lasts.
 * The read itself is not delayed: its runs are views valid only until their emission returns.
 */
function slowed(source: PageSource, ms: number): PageSource {
  return {
    geometry: () => source.geometry(),
    table: () => source.table(),
    read: (records) => timer(ms).pipe(concatMap(() => source.read(records))),
    close: () => source.close(),
  };
}

describe('SQLite in a worker thread, resumed with a live restore', () => {
  it('keeps committing while pages load; the database is sound afterwards', async () => {
    const layout = sqliteLayout({ dbBytes: 16 << 20, journalBytes: 1 << 20 });
    // Step 1: a bank runs and is snapshotted while it commits.
    const first = sqliteMemory(layout);
    const bank = await startBank(first, layout, 16);
    banks.push(bank);
    await until(() => bank.committed() >= 300);
    const file = dir.file('bank.snap');
    await lastValueFrom(snapshot(first, new FileSink(file)));
    await bank.stop();
    const atSnapshot = checkBank((await exportSqliteFiles(file, dir.path, { name: 'snapshot' })).db.path);
    expect(atSnapshot).toEqual(soundBank(atSnapshot.lastSeq));

    // Step 2: a fresh memory, a bank thread attached to it, the live restore; the bank goes at `started`.
    const memory = sqliteMemory(layout);
    const resumed = await startBank(memory, layout, 16, true);
    banks.push(resumed);
    const source = slowed(snapshotSource([file]), 20);
    const seen: { committedAtStart: number; committedAtDone: number; done?: Extract<RestoreEvent, { type: 'done' }> } = { committedAtStart: -1, committedAtDone: -1 };
    const resumedAt = resumed.next();
    await new Promise<void>((resolve, reject) =>
      restoreLive(source, memory, { runBytes: 64 * 1024, reads: 2 }).subscribe({
        next: (e) => {
          if (e.type === 'started') resumed.go();
          if (e.type === 'indexed') seen.committedAtStart = resumed.committed();
          if (e.type === 'done') {
            seen.done = e;
            seen.committedAtDone = resumed.committed();
          }
        },
        error: reject,
        complete: resolve,
      }),
    );
    // The bank went on from the snapshot's last transfer, and committed while the pages loaded.
    expect(await resumedAt).toEqual({ type: 'resumed', seq: atSnapshot.lastSeq });
    const label = JSON.stringify({ ...seen, done: seen.done?.stats });
    expect(seen.committedAtDone, label).toBeGreaterThan(atSnapshot.lastSeq);
    expect(seen.done?.stats.faults, label).toBeGreaterThan(0);
    expect(seen.done?.stats.loaded.fault, label).toBeGreaterThan(0);

    // Step 3: it keeps going on a fully loaded memory; then the database is sound, as sqlite3 reads it.
    await until(() => resumed.committed() >= seen.committedAtDone + 50);
    const stopped = await resumed.stop();
    const now = await exportSqliteFiles(memory, dir.path, { name: 'resumed' });
    expect(checkBank(now.db.path)).toEqual(soundBank(stopped.seq));
    expect(memory.loading).toBe(false);
  });
});
