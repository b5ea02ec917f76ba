// A database or journal that outgrows its block fails with SQLITE_FULL; the
// transaction is rolled back and memory holds what it held before, and a
// snapshot taken before still exports: in process, and with SQLite running in
// a worker thread, snapshotted while it runs, before it fills up.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { snapshot } from '../../src/pipeline/snapshot';
import { SQLITE_FULL } from '../../src/sqlite/constants';
import { SqliteError } from '../../src/sqlite/errors';
import { exportSqliteFiles } from '../../src/sqlite/exportFiles';
import { decodeMeta, sqliteLayout, sqliteMemory } from '../../src/sqlite/layout';
import { FileSink } from '../../src/storage/FileSink';
import { ThrottledSink } from '../../src/storage/ThrottledSink';
import { runToEnd, tempDir } from '../storage/support';
import { SLOW_DISK, checkBank, liveSnapshot, soundBank, startBank, type Bank } from './bank';
import { copyImage, fillAccounts, freshDatabase, sqlite3Cli } from './support';

const dir = tempDir('sqlite-full');
afterAll(() => dir.remove());

/** Inserts rows of `bytes` bytes in one transaction until SQLite refuses; returns the error. */
async function growUntilRefused(db: Awaited<ReturnType<typeof freshDatabase>>['db'], bytes: number): Promise<unknown> {
  try {
    await db.exec('BEGIN');
    for (let i = 0; i < 10_000; i++) await db.query('INSERT INTO accounts (balance, pad) VALUES (?, ?)', [0, 'y'.repeat(bytes)]);
    await db.exec('COMMIT');
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('SQLITE_FULL', () => {
  // With max_page_count (set by openSqlite) SQLite stops itself; without it, the VFS refuses the write.
  it.each([
    ['SQLite stops at the block (max_page_count)', false],
    ['the VFS refuses a write past the block', true],
  ])('when the database outgrows its block: %s', async (_, unlimited) => {
    const { layout, memory, writer, db } = await freshDatabase({ dbBytes: 48 * 4096 });
    await fillAccounts(db, 60);
    if (unlimited) await db.exec('PRAGMA max_page_count = 1000000');
    const before = copyImage(memory);
    const sizes = db.vfs.state;

    let pastBlock = 0;
    writer.onWrite = (block, offset, data) => {
      if (offset + data.length > memory.block(block).size) pastBlock++;
    };
    // Which of the two refused: the VFS's write, or SQLite before it.
    const vfsWrite = db.vfs.xWrite.bind(db.vfs);
    let vfsRefusals = 0;
    db.vfs.xWrite = (fileId, data, offset) => {
      const code = vfsWrite(fileId, data, offset);
      if (code === SQLITE_FULL) vfsRefusals++;
      return code;
    };
    const error = await growUntilRefused(db, 3000);
    expect(error).toBeInstanceOf(SqliteError);
    expect((error as SqliteError).code).toBe(SQLITE_FULL);
    expect(vfsRefusals).toBe(unlimited ? 1 : 0);
    expect(pastBlock).toBe(0);

    // Rolled back: no transaction open, the rows of before, the database file byte for byte.
    expect(db.sqlite3.get_autocommit(db.db)).not.toBe(0);
    expect((await db.query('SELECT count(*) FROM accounts')).rows).toEqual([[60]]);
    expect((await db.query('PRAGMA integrity_check')).rows).toEqual([['ok']]);
    expect(db.vfs.state).toEqual(sizes);
    const after = memory.block(layout.db.name).bytes;
    expect(Buffer.compare(after.subarray(0, sizes.db.size), (before[layout.db.name] as Uint8Array).subarray(0, sizes.db.size))).toBe(0);

    // And the database goes on working within its block.
    await db.query('INSERT INTO accounts (balance, pad) VALUES (?, ?)', [1, 'z']);
    expect((await db.query('SELECT count(*) FROM accounts')).rows).toEqual([[61]]);
    await db.close();
  });

  it('when the journal outgrows its block', async () => {
    const { memory, layout, db } = await freshDatabase({ dbBytes: 1 << 20, journalBytes: 8 * 4096 });
    await fillAccounts(db, 200);
    const before = memory.block(layout.db.name).bytes.slice(0, db.vfs.state.db.size);

    // Rewriting every row journals every page of the table: more than 8 pages.
    const error = await db.exec("UPDATE accounts SET pad = 'w' || pad").catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SqliteError', code: SQLITE_FULL });

    expect((await db.query("SELECT count(*) FROM accounts WHERE pad LIKE 'w%'")).rows).toEqual([[0]]);
    expect((await db.query('PRAGMA integrity_check')).rows).toEqual([['ok']]);
    expect(Buffer.compare(memory.block(layout.db.name).bytes.subarray(0, before.length), before)).toBe(0);
    // A transaction that fits still commits.
    await db.exec("UPDATE accounts SET pad = 'w' || pad WHERE id < 3");
    expect((await db.query("SELECT count(*) FROM accounts WHERE pad LIKE 'w%'")).rows).toEqual([[3]]);
    await db.close();
  });

  it('leaves a snapshot taken before intact', async () => {
    const { memory, db } = await freshDatabase({ dbBytes: 48 * 4096 });
    await fillAccounts(db, 60);
    const file = dir.file('before-full.snap');
    expect((await runToEnd(snapshot(memory, new FileSink(file), { strategy: 'queue' }))).kind).toBe('done');

    const error = await growUntilRefused(db, 3000);
    expect(error).toMatchObject({ code: SQLITE_FULL });
    await db.close();

    const out = await exportSqliteFiles(file, dir.path, { name: 'before-full' });
    expect(sqlite3Cli(out.db.path, 'PRAGMA integrity_check; SELECT count(*), sum(balance) FROM accounts;')).toEqual(['ok', `60|${60 * 100 + (59 * 60) / 2}`]);
  });
});

describe('SQLITE_FULL in a worker thread', () => {
  let bank: Bank | undefined;
  afterEach(async () => {
    await bank?.worker.terminate();
    bank = undefined;
  });

  it('fails the transfer that outgrows the block; memory and a snapshot taken before stay sound', async () => {
    // 2000 accounts take about 170 of the 512 pages; the ledger, 500-byte notes, fills the rest.
    const layout = sqliteLayout({ dbBytes: 2 << 20, journalBytes: 256 << 10 });
    const memory = sqliteMemory(layout);
    bank = await startBank(memory, layout, 500);

    // A snapshot of the running bank, from its start.
    const file = dir.file('worker-before.snap');
    const early = await liveSnapshot(memory, bank, new ThrottledSink(new FileSink(file), { profile: SLOW_DISK }), 'copy');
    const full = await bank.next();
    if (full.type !== 'full') throw new Error(`expected the bank to fill up, got ${JSON.stringify(full)}`);
    expect(full.code).toBe(SQLITE_FULL);
    // The failed transfer is rolled back: the worker's own SQLite finds the last committed one.
    expect(full.check).toEqual(Object.values(soundBank(full.seq)));

    // A snapshot of the full database, then the thread stops.
    const after = dir.file('worker-after.snap');
    const late = await liveSnapshot(memory, bank, new FileSink(after), 'queue');
    const stopped = await bank.stop();
    expect(stopped.seq).toBe(full.seq);

    // Memory holds every committed transfer, no journal, and nothing past the block.
    const files = decodeMeta(memory.read(layout.meta.name, 0, 48), layout.meta.name);
    expect(files?.journal).toEqual({ exists: false, size: 0 });
    expect(files?.db.size).toBeLessThanOrEqual(layout.db.size);
    expect(files?.db.size).toBeGreaterThan(layout.db.size - 8 * layout.pageSize);
    const now = await exportSqliteFiles(memory, dir.path, { name: 'worker-now' });
    expect(checkBank(now.db.path)).toEqual(soundBank(full.seq));

    // The early snapshot holds a smaller bank, as of its t0, whose ledger is the start of memory's.
    const earlyOut = await exportSqliteFiles(file, dir.path, { name: 'worker-before' });
    const earlySeq = bank.committedWithin(early.events.started.cut[bank.writerId] as number);
    const cut = early.events.started.cut[bank.writerId] as number;
    const label = JSON.stringify({ ...early, events: undefined, cut, earlySeq, writes: [0, 1, 2, 3].map((s) => bank?.writesAt(s)), pause: early.events.started.t0PauseMs });
    expect(earlySeq, label).toBeGreaterThanOrEqual(early.before);
    expect(earlySeq, label).toBeLessThanOrEqual(early.begunAtT0);
    expect(earlySeq).toBeLessThan(full.seq);
    expect(checkBank(earlyOut.db.path)).toEqual(soundBank(earlySeq));
    const sameRows = `ATTACH '${now.db.path}' AS now; SELECT count(*) FROM ledger l JOIN now.ledger n USING (seq) WHERE (l.src, l.dst, l.amount) = (n.src, n.dst, n.amount);`;
    expect(sqlite3Cli(earlyOut.db.path, sameRows)).toEqual([`${earlySeq}`]);
    // The late one, the full database.
    const lateOut = await exportSqliteFiles(after, dir.path, { name: 'worker-after' });
    // The bank wrote nothing after it filled up: the late cut is all its writes.
    expect(late.events.started.cut[bank.writerId]).toBe(stopped.writes);
    expect(checkBank(lateOut.db.path)).toEqual(soundBank(full.seq));
  });
});
