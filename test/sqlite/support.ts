/**
 * Test helpers for the SQLite adapter: a writer straight over a
 * `PagedMemory`'s blocks (no write barrier: only for memories no snapshot
 * holds), copies of block bytes, and Debian's `sqlite3` command.
 */
import { spawnSync } from 'node:child_process';
import type { PagedMemory } from '../../src/memory/PagedMemory';
import { sqliteLayout, sqliteMemory, type SqliteMemoryOptions } from '../../src/sqlite/layout';
import { openSqlite, type SqliteDatabase } from '../../src/sqlite/openSqlite';
import type { SyncWriter } from '../../src/sqlite/SyncWriter';

/** Called before each write the writer makes. */
export type WriteHook = (block: string, offset: number, data: Uint8Array) => void;

/**
 * A `SyncWriter` that writes a memory's blocks directly, bypassing the write
 * barrier: a test helper for memories without a snapshot. `onWrite`, when
 * set, sees each write before it lands.
 */
export function blockWriter(memory: PagedMemory): SyncWriter & { onWrite: WriteHook | undefined; writes: number } {
  return {
    onWrite: undefined,
    writes: 0,
    write(block, offset, data) {
      this.onWrite?.(block, offset, data);
      this.writes++;
      memory.block(block).bytes.set(data, offset);
    },
    read(block, offset, length) {
      return memory.read(block, offset, length);
    },
  };
}

/** A copy of every block's bytes, by name. */
export function copyImage(memory: PagedMemory): Record<string, Uint8Array> {
  return Object.fromEntries(memory.blocks.map((b) => [b.name, b.bytes.slice()]));
}

/** Debian's sqlite3 command line. */
export const SQLITE3 = '/usr/bin/sqlite3';

/** Runs `sql` with the stock `sqlite3` on `dbPath`; returns its output lines (`-list` mode, `|` between columns). Throws on a non-zero exit. */
export function sqlite3Cli(dbPath: string, sql: string): string[] {
  const r = spawnSync(SQLITE3, ['-bail', '-list', dbPath], { input: sql, encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`sqlite3 exited with ${r.status}: ${r.stderr}`);
  return r.stdout.split('\n').filter((line) => line.length > 0);
}

/** A fresh memory for a database, its writer, and the database open on it. */
export async function freshDatabase(options: SqliteMemoryOptions) {
  const layout = sqliteLayout(options);
  const memory = sqliteMemory(layout);
  const writer = blockWriter(memory);
  const db = await openSqlite(writer, layout);
  return { layout, memory, writer, db };
}

/** Rows of `(id, balance, pad)`, with pads long enough that the table spans many pages. */
export async function fillAccounts(db: SqliteDatabase, rows: number): Promise<void> {
  await db.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, pad TEXT NOT NULL)');
  await db.exec('BEGIN');
  for (let i = 0; i < rows; i++) await db.query('INSERT INTO accounts VALUES (?, ?, ?)', [i, 100 + i, `${i}:`.padEnd(500, 'x')]);
  await db.exec('COMMIT');
}
