/**
 * Errors of the `bgsnap` command line. Like the library's (`src/errors.ts`),
 * each has a fixed `name` and a message that says what is wrong; the command
 * prints the message after `error: ` and exits 1.
 */

import type { FormatError } from '../errors';

/** A snapshot file failed its check. `problems[0]` is the first thing wrong, by byte offset. */
export class InvalidSnapshotError extends Error {
  override readonly name = 'InvalidSnapshotError';
  constructor(
    readonly path: string,
    readonly problems: readonly [FormatError, ...FormatError[]],
    /** What the command left undone because of it, e.g. `nothing was written to "guest.raw"`. */
    consequence?: string,
  ) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    super(`${JSON.stringify(path)} is not a valid snapshot: ${problems[0].message}${more}${consequence === undefined ? '' : `; ${consequence}`}`);
  }
}

/** A command would replace a file that exists; the flag that allows it was not given. Nothing was written to it. */
export class OutputExistsError extends Error {
  override readonly name = 'OutputExistsError';
  constructor(readonly path: string) {
    super(`Refusing to overwrite ${JSON.stringify(path)}: it exists; pass --force to replace it`);
  }
}


/** A file changed while a command read it (its size or modification time differ from when reading began). */
export class SourceChangedError extends Error {
  override readonly name = 'SourceChangedError';
  constructor(
    readonly path: string,
    readonly sizeBefore: number,
    readonly sizeAfter: number,
    /** What the command left undone because of it. */
    consequence: string,
  ) {
    const what = sizeBefore !== sizeAfter ? `its size went from ${sizeBefore} to ${sizeAfter} bytes` : 'its modification time changed';
    super(`${JSON.stringify(path)} changed while it was read (${what}); ${consequence}`);
  }
}

export { CancelledError } from '../errors';
