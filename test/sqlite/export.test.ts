// exportSqliteFiles turns an image of the blocks into files the stock sqlite3
// opens; an image taken mid-transaction carries the hot journal, which sqlite3
// rolls back to the state before the transaction.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/cli/errors';
import { FileExistsError, FormatError } from '../../src/errors';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { SqliteImageError } from '../../src/sqlite/errors';
import { exportSqliteFiles } from '../../src/sqlite/exportFiles';
import { sqliteLayout, sqliteMemory } from '../../src/sqlite/layout';
import { openSqlite } from '../../src/sqlite/openSqlite';
import { FileSink } from '../../src/storage/FileSink';
import { runToEnd, tempDir } from '../storage/support';
import { blockWriter, copyImage, fillAccounts, freshDatabase, sqlite3Cli } from './support';

const dir = tempDir('sqlite-export');
afterAll(() => dir.remove());

const ROWS = 120;
/** Sum of the balances `fillAccounts` gives ROWS rows. */
const BALANCE = ROWS * 100 + ((ROWS - 1) * ROWS) / 2;

describe('exportSqliteFiles', () => {
  it('writes a database that sqlite3 checks and reads, from block bytes', async () => {
    const { memory, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, ROWS);
    await db.exec('CREATE INDEX by_balance ON accounts (balance)');
    const image = copyImage(memory);
    await db.close();

    const out = await exportSqliteFiles(image, dir.path, { name: 'plain' });
    expect(out).toEqual({ db: { path: dir.file('plain.db'), bytes: readFileSync(dir.file('plain.db')).length }, journal: undefined });
    expect(existsSync(dir.file('plain.db-journal'))).toBe(false);
    expect(sqlite3Cli(out.db.path, 'PRAGMA integrity_check; SELECT count(*), sum(balance) FROM accounts; SELECT pad FROM accounts WHERE id = 7;')).toEqual([
      'ok',
      `${ROWS}|${BALANCE}`,
      '7:'.padEnd(500, 'x'),
    ]);
    // Only the two files: the temporary names are gone.
    expect(readdirSync(dir.path).filter((f) => f.startsWith('plain') || f.startsWith('.plain'))).toEqual(['plain.db']);
  });

  it('writes the files of a memory, whose size the metadata gives', async () => {
    const { memory, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, ROWS);
    const size = db.vfs.state.db.size;
    const out = await exportSqliteFiles(memory, dir.path, { name: 'memory' });
    await db.close();
    expect(out.db.bytes).toBe(size);
    expect(readFileSync(out.db.path).length).toBe(size);
    expect(sqlite3Cli(out.db.path, 'PRAGMA integrity_check; SELECT sum(balance) FROM accounts;')).toEqual(['ok', `${BALANCE}`]);
  });

  it('carries a journal live at t0, which sqlite3 rolls back to the state before the transaction', async () => {
    const { layout, memory, writer, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, ROWS);
    const committed = copyImage(memory);
    const committedDb = (committed[layout.db.name] as Uint8Array).subarray(0, db.vfs.state.db.size);

    // The image is taken just before the transaction's second write to the database:
    // the journal is complete, and the database holds one page of the transaction.
    let dbWrites = 0;
    let image: Record<string, Uint8Array> | undefined;
    writer.onWrite = (block) => {
      if (block === layout.db.name && ++dbWrites === 2) image = copyImage(memory);
    };
    await db.exec('BEGIN; UPDATE accounts SET balance = balance + 1000, pad = upper(pad); COMMIT;');
    writer.onWrite = undefined;
    expect((await db.query('SELECT sum(balance) FROM accounts')).rows).toEqual([[BALANCE + ROWS * 1000]]);
    await db.close();
    if (image === undefined) throw new Error('the transaction made fewer than two writes to the database');

    const out = await exportSqliteFiles(image, dir.path, { name: 'hot' });
    expect(out.journal).toEqual({ path: dir.file('hot.db-journal'), bytes: readFileSync(dir.file('hot.db-journal')).length });
    expect(out.journal?.bytes).toBeGreaterThan(4096);
    // The database file alone is not the committed state: the journal is needed.
    expect(Buffer.compare(readFileSync(out.db.path).subarray(0, committedDb.length), committedDb)).not.toBe(0);

    expect(sqlite3Cli(out.db.path, "PRAGMA integrity_check; SELECT count(*), sum(balance) FROM accounts; SELECT count(*) FROM accounts WHERE pad GLOB '*X*';")).toEqual([
      'ok',
      `${ROWS}|${BALANCE}`,
      '0',
    ]);
    // Rolled back, the journal is gone.
    expect(existsSync(out.journal?.path ?? '')).toBe(false);
  });

  it('the same image, put back in memory, rolls back when opened through the VFS', async () => {
    const { layout, memory, writer, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, ROWS);
    let image: Record<string, Uint8Array> | undefined;
    let dbWrites = 0;
    writer.onWrite = (block) => {
      if (block === layout.db.name && ++dbWrites === 2) image = copyImage(memory);
    };
    await db.exec('UPDATE accounts SET balance = 0');
    await db.close();
    if (image === undefined) throw new Error('the transaction made fewer than two writes to the database');

    const restored = sqliteMemory(layout);
    for (const block of restored.blocks) block.bytes.set(image[block.name] as Uint8Array);
    const again = await openSqlite(blockWriter(restored), layout);
    expect((await again.query('SELECT sum(balance) FROM accounts')).rows).toEqual([[BALANCE]]);
    expect(again.vfs.state.journal).toEqual({ exists: false, size: 0 });
    await again.close();
  });

  it('reads a snapshot file', async () => {
    const { memory, db } = await freshDatabase({ dbBytes: 1 << 20, pageSize: 1024 });
    await fillAccounts(db, ROWS);
    await db.close();
    const file = dir.file('idle.snap');
    expect((await runToEnd(snapshot(memory, new FileSink(file)))).kind).toBe('done');

    const out = await exportSqliteFiles(file, dir.path, { name: 'from-file' });
    expect(out.journal).toBeUndefined();
    expect(readFileSync(out.db.path)).toEqual(Buffer.from(memory.read('sqlite-db', 0, out.db.bytes)));
    expect(sqlite3Cli(out.db.path, 'PRAGMA page_size; PRAGMA integrity_check; SELECT sum(balance) FROM accounts;')).toEqual(['1024', 'ok', `${BALANCE}`]);
  });

  it('refuses to replace files unless told to', async () => {
    const { memory, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, 10);
    await db.close();
    await exportSqliteFiles(memory, dir.path, { name: 'twice' });
    writeFileSync(dir.file('twice.db-journal'), 'stale');

    await expect(exportSqliteFiles(memory, dir.path, { name: 'twice' })).rejects.toThrow(FileExistsError);
    // Overwriting removes a journal that is not the new database's.
    const out = await exportSqliteFiles(memory, dir.path, { name: 'twice', overwrite: true });
    expect(out.journal).toBeUndefined();
    expect(existsSync(dir.file('twice.db-journal'))).toBe(false);
    expect(sqlite3Cli(out.db.path, 'SELECT count(*) FROM accounts;')).toEqual(['10']);
    expect(readdirSync(dir.path).filter((f) => f.includes('twice'))).toEqual(['twice.db']);
  });

  it('refuses images that do not hold a database, writing nothing', async () => {
    const layout = sqliteLayout({ dbBytes: 64 * 1024 });
    const blank = sqliteMemory(layout);
    await expect(exportSqliteFiles(blank, dir.path, { name: 'blank' })).rejects.toThrow(/no database was ever opened/);
    const other = new PagedMemory({ blocks: [{ name: 'ram', size: 4096 }] });
    await expect(exportSqliteFiles(other, dir.path, { name: 'other' })).rejects.toThrow(SqliteImageError);
    await expect(exportSqliteFiles({ 'sqlite-db': new Uint8Array(4096) }, dir.path, { name: 'other' })).rejects.toThrow(/no such block in the image/);
    await expect(exportSqliteFiles(blank, dir.path, { name: '../up' })).rejects.toMatchObject({ name: 'OptionError', option: 'name' });
    expect(readdirSync(dir.path).filter((f) => /blank|other|up/.test(f))).toEqual([]);
  });

  it('refuses a damaged snapshot file, writing nothing', async () => {
    const { memory, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, ROWS);
    await db.close();
    const file = dir.file('damaged.snap');
    expect((await runToEnd(snapshot(memory, new FileSink(file)))).kind).toBe('done');
    const bytes = readFileSync(file);
    const at = bytes.length - 100;
    bytes[at] = (bytes[at] as number) ^ 0xff;
    writeFileSync(file, bytes);

    await expect(exportSqliteFiles(file, dir.path, { name: 'damaged' })).rejects.toThrow(FormatError);
    expect(readdirSync(dir.path).filter((f) => f.includes('damaged') && !f.endsWith('.snap'))).toEqual([]);
    // Into folders that did not exist: the damage is found after they were made, and they are removed again.
    const fresh = dir.file('damaged-new');
    await expect(exportSqliteFiles(file, `${fresh}/inner`, { name: 'damaged' })).rejects.toThrow(FormatError);
    expect(existsSync(fresh)).toBe(false);
  });

  it('stops when its signal aborts, leaving no temporary files and no folder it made', async () => {
    const { memory, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, ROWS);
    await db.close();
    const file = dir.file('abort.snap');
    expect((await runToEnd(snapshot(memory, new FileSink(file)))).kind).toBe('done');

    const into = dir.file('aborted');
    const controller = new AbortController();
    controller.abort('SIGINT');
    const before = exportSqliteFiles(file, into, { signal: controller.signal });
    await expect(before).rejects.toThrow(CancelledError);
    await expect(before).rejects.toThrow(/^Cancelled by SIGINT; nothing was written to /);
    expect(existsSync(into)).toBe(false);

    // Aborted midway: after the temporary files exist and a record was written into them.
    let reads = 0;
    const midway = { get aborted() { return ++reads > 3; }, reason: 'SIGTERM' } as unknown as AbortSignal;
    await expect(exportSqliteFiles(file, into, { signal: midway })).rejects.toThrow(/^Cancelled by SIGTERM/);
    expect(reads).toBeGreaterThan(3);
    expect(existsSync(into)).toBe(false);

    // Into a folder that exists: it stays, empty.
    reads = 0;
    await expect(exportSqliteFiles(file, dir.path, { name: 'abort', signal: midway })).rejects.toThrow(CancelledError);
    expect(readdirSync(dir.path).filter((f) => f.includes('abort') && !f.endsWith('.snap'))).toEqual([]);
    // And a block image stops as well.
    reads = 0;
    await expect(exportSqliteFiles(copyImage(memory), dir.path, { name: 'abort', signal: midway })).rejects.toThrow(CancelledError);
    expect(readdirSync(dir.path).filter((f) => f.includes('abort') && !f.endsWith('.snap'))).toEqual([]);
  });
});
