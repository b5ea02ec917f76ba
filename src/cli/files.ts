import { accessSync, constants, existsSync, linkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { OutputExistsError } from './errors';
import { usageError } from './usage';

/**
 * The paths a command is given, checked before it starts: the same mistake
 * is the same usage error (exit 2) in every command.
 */

/** What `flag` names in messages: an option with its value name (`--out <file>`), or an argument (`file`). */
function subject(flag: string): string {
  return flag.startsWith('-') ? `option '${flag}'` : `argument '${flag}'`;
}

/**
 * A usage error unless `path` can name a new or replaced file: not a
 * folder, not ending in a separator, in a folder that exists and can be
 * written to.
 */
export function checkFilePath(path: string, flag: string, command: Command): void {
  let folder = path.endsWith('/') || path.endsWith(sep);
  try {
    folder ||= statSync(path).isDirectory();
  } catch {
    // Nothing there yet: a file can be made.
  }
  if (folder) usageError(command, `${subject(flag)}: ${JSON.stringify(path)} is a folder, expected a file name`);
  checkParentFolder(path, flag, command);
}

/**
 * A usage error unless the folder `path` is in exists and can be written to
 * (for an output that a command creates: a file, or a folder of its own).
 */
export function checkParentFolder(path: string, flag: string, command: Command): void {
  const parent = dirname(resolve(path));
  const shown = dirname(path);
  let isFolder: boolean;
  try {
    isFolder = statSync(parent).isDirectory();
  } catch {
    isFolder = false;
  }
  if (!isFolder) usageError(command, `${subject(flag)}: the folder ${JSON.stringify(shown)} of ${JSON.stringify(path)} does not exist`);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    usageError(command, `${subject(flag)}: cannot write in the folder ${JSON.stringify(shown)} of ${JSON.stringify(path)} (permission denied)`);
  }
}

/**
 * A usage error unless `path` is a file that can be read: `no such file:
 * PATH`, or `PATH is a folder, expected a snapshot file`.
 */
export function checkInputFile(path: string, command: Command, what = 'a snapshot file'): void {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    return usageError(command, `no such file: ${JSON.stringify(path)}`);
  }
  if (stats.isDirectory()) usageError(command, `${JSON.stringify(path)} is a folder, expected ${what}`);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    usageError(command, `cannot read ${JSON.stringify(path)} (permission denied), expected ${what}`);
  }
}

/**
 * Writes `text` to `path` through a temporary file in the same folder, given
 * its name only when complete: renamed over a file there with `force`, else
 * linked, so that a file that appeared meanwhile is not replaced (checked,
 * then renamed, where the file system has no hard links).
 * @throws OutputExistsError when a file is at `path` and `force` is off; nothing was written to it.
 */
export function writeFileInPlace(path: string, text: string, force: boolean): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text, { flag: 'wx' });
    if (force) return renameSync(temp, path);
    try {
      linkSync(temp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new OutputExistsError(path);
      // No hard links here: check, then rename.
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code ?? '')) throw error;
      if (existsSync(path)) throw new OutputExistsError(path);
      renameSync(temp, path);
    }
  } finally {
    rmSync(temp, { force: true });
  }
}

/** What a system error's code means, in words, for the one-line message of exit 1. */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder, expected a file',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'it exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
  EIO: 'an input/output error',
};

/**
 * A system error (`EACCES`, `ENOSPC`, …) as one line that names the path and
 * says what went wrong, without Node's raw text; `undefined` for other errors.
 */
export function describeSystemError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, path, dest, syscall } = error as NodeJS.ErrnoException & { dest?: string };
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return undefined;
  const words = ERRNO_WORDS[code] ?? code;
  const target = dest ?? path;
  if (target === undefined) return `${syscall ?? 'a system call'} failed: ${words}`;
  return `${JSON.stringify(target)}: ${words}${syscall === undefined ? '' : ` (${syscall})`}`;
}
