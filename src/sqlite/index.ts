// bgsnap/sqlite: a wa-sqlite database kept in PagedMemory blocks, and its
// export from a snapshot to files the stock sqlite3 opens.
export type { SyncWriter } from './SyncWriter';
export { DEFAULT_SQLITE_BLOCKS, sqliteLayout, sqliteMemory } from './layout';
export type { SqliteBlockNames, SqliteFileKind, SqliteFileState, SqliteFiles, SqliteLayout, SqliteMemoryOptions } from './layout';
export { BlockVfs } from './BlockVfs';
export type { BlockVfsOptions } from './BlockVfs';
export { openSqlite } from './openSqlite';
export type { OpenSqliteOptions, SqliteDatabase, SqliteRows, SqliteValue } from './openSqlite';
export { loadSqlite } from './loadSqlite';
export type { SqliteRuntime, WaSqliteModule } from './loadSqlite';
export { exportSqliteFiles } from './exportFiles';
export type { ExportSqliteOptions, ExportedFile, SqliteBlockImage, SqliteExport } from './exportFiles';
export { SQLITE_FULL } from './constants';
export { SqliteError, SqliteImageError } from './errors';
