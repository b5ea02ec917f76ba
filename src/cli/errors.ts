/**
 * Errors of the `bgsnap` command line. Like the library's (`src/errors.ts`),
 * each has a fixed `name` and a message that says what is wrong; the command
 * prints the message after `error: ` and exits 1.
 */

import type { FormatError } from '../errors';
import { verify, type VerifyFailed, type VerifyReport } from '../format/verify';

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

/**
 * A FormatError from a command that read `files` (a chain, base first), as
 * an InvalidSnapshotError naming the file: the only one, or, for a chain,
 * the first link that `verify` finds bad (read again: this is the failure's
 * path only). The error's own problem when none is found.
 */
export async function invalidLink(files: readonly string[], error: FormatError, consequence: string): Promise<InvalidSnapshotError> {
  if (files.length > 1) {
    const report = await verify(files).catch(() => undefined);
    const links: readonly VerifyReport[] = report?.links ?? [];
    const bad = links.find((r): r is VerifyFailed => !r.ok);
    if (bad !== undefined) return new InvalidSnapshotError(bad.path, bad.problems, consequence);
  }
  return new InvalidSnapshotError(files.length === 1 ? (files[0] as string) : `one of ${files.map((f) => JSON.stringify(f)).join(', ')}`, [error], consequence);
}
