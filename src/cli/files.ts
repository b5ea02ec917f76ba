import { accessSync, constants, existsSync, linkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import type * as S3Module from '../s3';
import { DEFAULT_COMPRESSION, type Compression } from '../compression/choose';
import type { SnapshotLocation } from '../format/ByteSource';
import { isS3Url, parseS3Url, type S3Location } from '../s3/url';
import type { Sink } from '../storage/Sink';
import { FileSink } from '../storage/FileSink';
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

/*
 * Snapshots as objects: `s3://bucket/key` wherever a command takes or writes
 * a snapshot file. The AWS SDK (an optional peer dependency) is loaded only
 * for such a location, through `bgsnap/s3`.
 */

/** `--endpoint <url>`, for commands that take or write a snapshot. */
export function endpointOption(): Option {
  return new Option(
    '--endpoint <url>',
    "the S3-compatible server for s3://bucket/key locations, with path-style addressing (default: AWS; credentials from the AWS SDK's environment variables and profiles)",
  );
}

/** `--compress [codec]`, for commands that write a snapshot: zstd when no codec is named. */
export function compressOption(): Option {
  return new Option('--compress [codec]', `compress the records (codec: zstd; default ${DEFAULT_COMPRESSION})`)
    .choices(['zstd'])
    .preset(DEFAULT_COMPRESSION);
}

/** The `compression` a sink gets from `--compress`. */
export function compressionOf(flag: string | undefined): Compression {
  return flag === undefined ? 'none' : (flag as Compression);
}

/** A snapshot to read: where it is, for the library, and its size in bytes. */
export interface SnapshotInput {
  readonly location: SnapshotLocation;
  readonly size: number;
}

/**
 * The snapshot a command reads, checked before it starts: a file (a usage
 * error as `checkInputFile` gives), or an object (`s3://bucket/key`; a usage
 * error when the URL has no key or there is no such object).
 */
export async function snapshotInput(path: string, command: Command, endpoint: string | undefined): Promise<SnapshotInput> {
  if (!isS3Url(path)) {
    checkInputFile(path, command);
    return { location: path, size: (await stat(path)).size };
  }
  const where = objectLocation(path, command);
  const s3 = await loadS3();
  const location = s3.s3Source(where, { client: s3Client(s3, endpoint) });
  try {
    const opened = await location.open();
    await opened.close();
    return { location, size: opened.size };
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
      return usageError(command, `no such object: ${JSON.stringify(path)}`);
    }
    throw error;
  }
}

/** The size of a snapshot written to `path` (a file, or an object). */
export async function snapshotSize(path: string, endpoint: string | undefined): Promise<{ location: SnapshotLocation; size: number }> {
  if (!isS3Url(path)) return { location: path, size: (await stat(path)).size };
  const s3 = await loadS3();
  const location = s3.s3Source(path, { client: s3Client(s3, endpoint) });
  const opened = await location.open();
  await opened.close();
  return { location, size: opened.size };
}

/** A usage error unless `out` can name the snapshot written: a new or replaced file, or an object URL with a key. */
export function checkSnapshotOutput(out: string, flag: string, command: Command): void {
  if (isS3Url(out)) objectLocation(out, command, flag);
  else checkFilePath(out, flag, command);
}

/** The sink a command writes a snapshot to `out` through: a FileSink, or an S3Sink for `s3://bucket/key`. */
export async function snapshotSink(
  out: string,
  options: { readonly overwrite: boolean; readonly capacity: number; readonly compression: Compression; readonly endpoint: string | undefined },
): Promise<Sink & { whenClosed(): Promise<void>; readonly state: string }> {
  const { overwrite, capacity, compression } = options;
  if (!isS3Url(out)) return new FileSink(out, { overwrite, capacity, compression });
  const s3 = await loadS3();
  const where = parseS3Url(out) as S3Location;
  return new s3.S3Sink({ client: s3Client(s3, options.endpoint), ...where, overwrite, compression });
}

function objectLocation(url: string, command: Command, flag?: string): S3Location {
  const where = parseS3Url(url);
  if (where === undefined) {
    usageError(command, `${flag === undefined ? '' : `${subject(flag)}: `}${JSON.stringify(url)} is not an object URL, expected s3://bucket/key`);
  }
  return where;
}

type S3 = typeof S3Module & { readonly S3Client: typeof import('@aws-sdk/client-s3').S3Client };

/** `bgsnap/s3` and the SDK, or an error that says how to install the SDK. */
async function loadS3(): Promise<S3> {
  try {
    const sdk = await import('@aws-sdk/client-s3');
    return { ...(await import('../s3')), S3Client: sdk.S3Client };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error('s3:// locations need the AWS SDK for JavaScript, which is not installed: npm install @aws-sdk/client-s3', { cause: error });
    }
    throw error;
  }
}

/**
 * A client for `--endpoint` (path-style, as local S3-compatible servers need)
 * or for AWS; region and credentials from the SDK's usual environment
 * variables and profiles (a local server gets us-east-1 when none is set).
 */
function s3Client(s3: S3, endpoint: string | undefined): InstanceType<S3['S3Client']> {
  if (endpoint === undefined) return new s3.S3Client({});
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return new s3.S3Client({ endpoint, forcePathStyle: true, region });
}

/** `snapshotInput` for each path, in order: the files of a chain, base first. */
export async function snapshotInputs(paths: readonly string[], command: Command, endpoint: string | undefined): Promise<SnapshotInput[]> {
  const inputs: SnapshotInput[] = [];
  for (const path of paths) inputs.push(await snapshotInput(path, command, endpoint));
  return inputs;
}
