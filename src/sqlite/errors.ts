/** Errors of the SQLite adapter, each with a fixed `name`. */

/**
 * SQLite refused a statement or an open. `code` is SQLite's result code
 * (`SQLITE_FULL`, 13, when the database or its journal would outgrow its
 * block); `cause` is the writer's error when a write through it failed.
 */
export class SqliteError extends Error {
  override readonly name = 'SqliteError';
  constructor(
    message: string,
    /** SQLite's result code, primary or extended (https://sqlite.org/rescode.html). */
    readonly code: number,
    options?: { cause?: unknown },
  ) {
    super(`${message} (SQLite code ${code})`, options);
  }
}

/**
 * Memory, an image or a snapshot does not hold what the SQLite adapter
 * expects: a block is missing, the metadata block holds something else, or
 * a file size in it does not fit its block. `block` names the block at fault.
 */
export class SqliteImageError extends Error {
  override readonly name = 'SqliteImageError';
  constructor(
    /** The block at fault. */
    readonly block: string,
    /** What is wrong with it. */
    readonly reason: string,
  ) {
    super(`Block ${JSON.stringify(block)}: ${reason}`);
  }
}
