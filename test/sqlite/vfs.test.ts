// A database kept in PagedMemory blocks through BlockVfs: tables, rows and
// the file metadata live in the blocks, and survive closing and reopening.
import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/errors';
import { BlockVfs } from '../../src/sqlite/BlockVfs';
import { SqliteError, SqliteImageError } from '../../src/sqlite/errors';
import { decodeMeta, sqliteLayout, sqliteMemory } from '../../src/sqlite/layout';
import { openSqlite } from '../../src/sqlite/openSqlite';
import { blockWriter, fillAccounts, freshDatabase } from './support';

describe('a database in memory blocks', () => {
  it('creates tables, inserts and reads back', async () => {
    const { db } = await freshDatabase({ dbBytes: 1 << 20 });
    await db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB, n INTEGER)');
    for (let i = 0; i < 200; i++) await db.query('INSERT INTO kv VALUES (?, ?, ?)', [`key${i}`, new Uint8Array([i & 255, 1, 2]), i * i]);
    const { columns, rows } = await db.query('SELECT k, v, n FROM kv WHERE n >= ? ORDER BY n LIMIT 2', [100]);
    expect(columns).toEqual(['k', 'v', 'n']);
    expect(rows).toEqual([
      ['key10', new Uint8Array([10, 1, 2]), 100],
      ['key11', new Uint8Array([11, 1, 2]), 121],
    ]);
    expect((await db.query('SELECT count(*), sum(n) FROM kv')).rows).toEqual([[200, 2646700]]);
    expect((await db.query('PRAGMA integrity_check')).rows).toEqual([['ok']]);
    await db.close();
  });

  it('keeps each file in its block and its size in the metadata block', async () => {
    const { layout, memory, db } = await freshDatabase({ dbBytes: 1 << 20, pageSize: 4096 });
    await fillAccounts(db, 100);
    const meta = decodeMeta(memory.read(layout.meta.name, 0, 48), layout.meta.name);
    const pages = Number((await db.query('PRAGMA page_count')).rows[0]?.[0]);
    expect((await db.query('PRAGMA page_size')).rows).toEqual([[4096]]);
    // Between transactions, journal_mode DELETE leaves no journal.
    expect(meta).toEqual({ db: { exists: true, size: pages * 4096 }, journal: { exists: false, size: 0 } });
    expect(db.vfs.state).toEqual(meta);
    // The block starts with the database header.
    expect(Buffer.from(memory.read(layout.db.name, 0, 16)).toString('latin1')).toBe('SQLite format 3\0');
    await db.close();
  });

  it('reopens a database from the blocks alone, with a new VFS', async () => {
    const { layout, memory, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, 50);
    await db.close();
    const again = await openSqlite(blockWriter(memory), layout);
    expect((await again.query('SELECT count(*), sum(balance) FROM accounts')).rows).toEqual([[50, 50 * 100 + (49 * 50) / 2]]);
    await again.close();
  });

  it('refuses a journal mode whose journal would not be in a block', async () => {
    const { db } = await freshDatabase({ dbBytes: 1 << 20 });
    for (const mode of ['WAL', 'MEMORY', 'OFF']) {
      const error = await db.exec(`PRAGMA journal_mode = ${mode}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SqliteError);
      expect((error as SqliteError).message).toMatch(new RegExp(`journal_mode ${mode} is not supported`));
      expect((error as SqliteError).cause).toBeInstanceOf(OptionError);
    }
    expect((await db.query('PRAGMA journal_mode = TRUNCATE')).rows).toEqual([['truncate']]);
    expect((await db.query('PRAGMA journal_mode = DELETE')).rows).toEqual([['delete']]);
    await db.close();
  });

  it('refuses a second connection through the same VFS', async () => {
    const { db } = await freshDatabase({ dbBytes: 1 << 20 });
    const second = await db.sqlite3.open_v2(db.vfs.fileName, 0x6, db.vfs.name).catch((e: unknown) => e);
    expect(second).toMatchObject({ code: 14 });
    expect(db.vfs.takeError()).toMatchObject({ message: expect.stringMatching(/is open already: one connection at a time/) });
    await db.close();
  });

  it('keeps temporary files out of the blocks', async () => {
    const { writer, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, 20);
    const blocks = new Set<string>();
    writer.onWrite = (block) => blocks.add(block);
    // A temporary table and a sort through it, read only as far as the database goes.
    await db.exec('CREATE TEMP TABLE t AS SELECT * FROM accounts ORDER BY pad DESC');
    expect((await db.query('SELECT count(*) FROM temp.t')).rows).toEqual([[20]]);
    expect([...blocks]).toEqual([]);
    await db.close();
  });

  it('refuses a metadata block that holds something else', () => {
    const layout = sqliteLayout({ dbBytes: 1 << 20 });
    const memory = sqliteMemory(layout);
    memory.block(layout.meta.name).bytes.set([1, 2, 3]);
    expect(() => new BlockVfs(blockWriter(memory), layout, { name: 'x' })).toThrow(SqliteImageError);
  });

  it('names the option that is out of range', () => {
    expect(() => sqliteLayout({ dbBytes: 0 })).toThrow(expect.objectContaining({ option: 'dbBytes' }));
    expect(() => sqliteLayout({ dbBytes: 4096, journalBytes: 1.5 })).toThrow(expect.objectContaining({ option: 'journalBytes' }));
    expect(() => sqliteLayout({ dbBytes: 4096, pageSize: 1000 })).toThrow(expect.objectContaining({ option: 'pageSize' }));
    expect(() => sqliteLayout({ dbBytes: 4096, blocks: { journal: 'sqlite-db' } })).toThrow(expect.objectContaining({ option: 'blocks.journal' }));
  });

  it('rounds block sizes up to whole pages, with a one-page metadata block', () => {
    expect(sqliteLayout({ dbBytes: 5000, journalBytes: 100, pageSize: 1024, blocks: { db: 'main' } })).toEqual({
      pageSize: 1024,
      db: { name: 'main', size: 5120 },
      journal: { name: 'sqlite-journal', size: 1024 },
      meta: { name: 'sqlite-meta', size: 1024 },
    });
    // By default the journal can hold every page of the database.
    expect(sqliteLayout({ dbBytes: 1 << 20 }).journal.size).toBe((1 << 20) + (1 << 14) + 65536);
  });
});
