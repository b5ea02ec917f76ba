/// <reference types="wa-sqlite" preserve="true" />
import { BlockVfs } from './BlockVfs';
import { SQLITE_OPEN_CREATE, SQLITE_OPEN_READWRITE } from './constants';
import { SqliteError } from './errors';
import type { SqliteLayout } from './layout';
import { loadSqlite } from './loadSqlite';
import type { SyncWriter } from './SyncWriter';

/** A value SQLite stores or returns: integers beyond 2^53 come back as bigint. */
export type SqliteValue = number | bigint | string | Uint8Array | null;

/** What a query returned. */
export interface SqliteRows {
  readonly columns: string[];
  readonly rows: SqliteValue[][];
}

/** How `openSqlite` opens a database. */
export interface OpenSqliteOptions {
  /** The database's file name inside the VFS. @default 'bgsnap.db' */
  readonly fileName?: string;
}

/**
 * A database open on memory blocks. Statements throw `SqliteError`
 * (`code` 13, `SQLITE_FULL`, when a block is full). `sqlite3` and `db`
 * are wa-sqlite's API and connection, for anything the wrapper lacks.
 */
export interface SqliteDatabase {
  readonly sqlite3: SQLiteAPI;
  /** The connection, for `sqlite3`'s calls. */
  readonly db: number;
  readonly vfs: BlockVfs;
  /** Runs every statement of `sql`; rows are dropped. */
  exec(sql: string): Promise<void>;
  /** Runs the statements of `sql` with `params` bound to each; returns every row. */
  query(sql: string, params?: readonly SqliteValue[]): Promise<SqliteRows>;
  /** Closes the connection. Idempotent. */
  close(): Promise<void>;
}

let opened = 0;

/**
 * Opens (creating it if needed) the database kept in `layout`'s blocks, all
 * of whose writes go through `writer`. It registers a `BlockVfs` with wa-sqlite
 * (loaded once per thread) and sets:
 * - `page_size` to the memory's page size (at most 64 KiB) for a new database;
 * - `journal_mode = DELETE`: the journal exists, in its block, only while a
 *   transaction writes, so an image taken mid-transaction carries it (see
 *   `BlockVfs` for the modes allowed);
 * - `temp_store = MEMORY`;
 * - `max_page_count` to what the database block holds, so that a database
 *   that would outgrow it fails at once with `SQLITE_FULL`, in the statement
 *   that grows it. The VFS refuses any write past a block as well.
 *
 * A database whose image holds a hot journal (restored from a snapshot
 * taken mid-transaction) is rolled back on open, as after a power failure.
 *
 * Works in a worker thread with the writer of an attached memory.
 * @throws SqliteError when SQLite cannot open the database.
 * @throws SqliteImageError when the metadata block holds something else.
 * @example
 * const db = await openSqlite(writer, sqliteLayout({ dbBytes: 64 << 20 }));
 * await db.exec('CREATE TABLE t (x)');
 * await db.query('INSERT INTO t VALUES (?)', [1]);
 */
export async function openSqlite(writer: SyncWriter, layout: SqliteLayout, options: OpenSqliteOptions = {}): Promise<SqliteDatabase> {
  const { sqlite3, module } = await loadSqlite();
  const vfs = new BlockVfs(writer, layout, { name: `bgsnap-${++opened}`, fileName: options.fileName });
  vfs.allocMessage = (text) => {
    const bytes = module.lengthBytesUTF8(text) + 1;
    const at = module._sqlite3_malloc(bytes);
    if (at !== 0) module.stringToUTF8(text, at, bytes);
    return at;
  };
  sqlite3.vfs_register(vfs, false);
  let db: number;
  try {
    db = await sqlite3.open_v2(vfs.fileName, SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE, vfs.name);
  } catch (error) {
    throw sqliteError(error, vfs);
  }
  const database = new Database(sqlite3, db, vfs);
  try {
    await database.exec(`PRAGMA page_size = ${Math.min(layout.pageSize, 65536)}; PRAGMA journal_mode = DELETE; PRAGMA temp_store = MEMORY;`);
    const pageSize = Number((await database.query('PRAGMA page_size')).rows[0]?.[0]);
    await database.exec(`PRAGMA max_page_count = ${Math.floor(layout.db.size / pageSize)}`);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

class Database implements SqliteDatabase {
  private closed = false;

  constructor(
    readonly sqlite3: SQLiteAPI,
    readonly db: number,
    readonly vfs: BlockVfs,
  ) {}

  async exec(sql: string): Promise<void> {
    try {
      await this.sqlite3.exec(this.db, sql);
    } catch (error) {
      throw sqliteError(error, this.vfs);
    }
  }

  async query(sql: string, params?: readonly SqliteValue[]): Promise<SqliteRows> {
    try {
      const { columns, rows } = await this.sqlite3.execWithParams(this.db, sql, params === undefined ? undefined : [...params]);
      return { columns, rows: rows as SqliteValue[][] };
    } catch (error) {
      throw sqliteError(error, this.vfs);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.sqlite3.close(this.db);
    } catch (error) {
      throw sqliteError(error, this.vfs);
    }
  }
}

/** wa-sqlite's error as a `SqliteError`, with the VFS's own error, if any, as its cause. */
function sqliteError(error: unknown, vfs: BlockVfs): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (!(error instanceof Error) || typeof code !== 'number') return error;
  return new SqliteError(error.message, code, { cause: vfs.takeError() ?? error });
}
