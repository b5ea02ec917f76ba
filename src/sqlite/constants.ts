/**
 * The SQLite result codes and flags the VFS uses: values fixed by SQLite's C
 * API (https://sqlite.org/rescode.html, https://sqlite.org/c3ref/c_open_autoproxy.html).
 */

/** Result codes. */
export const SQLITE_OK = 0;
export const SQLITE_ERROR = 1;
export const SQLITE_IOERR = 10;
export const SQLITE_NOTFOUND = 12;
/** The database or its journal would outgrow its block. */
export const SQLITE_FULL = 13;
export const SQLITE_CANTOPEN = 14;
export const SQLITE_IOERR_SHORT_READ = 522;
export const SQLITE_IOERR_READ = 266;
export const SQLITE_IOERR_WRITE = 778;
export const SQLITE_IOERR_TRUNCATE = 1546;
export const SQLITE_IOERR_DELETE = 2570;
export const SQLITE_IOERR_FSTAT = 1802;

/** `xOpen` flags. */
export const SQLITE_OPEN_READWRITE = 0x2;
export const SQLITE_OPEN_CREATE = 0x4;
export const SQLITE_OPEN_DELETEONCLOSE = 0x8;
export const SQLITE_OPEN_MAIN_DB = 0x100;
export const SQLITE_OPEN_MAIN_JOURNAL = 0x800;
export const SQLITE_OPEN_WAL = 0x80000;

/** `xFileControl` op: a PRAGMA is being run. */
export const SQLITE_FCNTL_PRAGMA = 14;
