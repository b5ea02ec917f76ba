import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';

/**
 * The steps of writing a file under a temporary name and then giving it its
 * own, for writers on `node:fs/promises` (`writeRawImage`,
 * `exportSqliteFiles`). `FileSink` follows the same steps through its
 * injectable callback `fs`.
 */

/** Codes of `link` failing because the file system has no hard links. */
const NO_HARD_LINKS = ['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'];

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Writes all of `data` at `position`, going on after a short write; a write that makes no progress is an `EIO`. */
export async function writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error(`write made no progress at byte ${position + done}`), { code: 'EIO' });
    done += bytesWritten;
  }
}

/**
 * Gives `temp` the name `path` if nothing has it: a hard link, which refuses
 * a taken name atomically, then the temporary name is dropped. Where the file
 * system has no hard links: check, then rename (a file created between the
 * two is replaced). A taken name throws `taken(path)`.
 */
export async function linkIntoPlace(temp: string, path: string, taken: (path: string) => Error): Promise<void> {
  try {
    await link(temp, path);
  } catch (error) {
    if (code(error) === 'EEXIST') throw taken(path);
    if (!NO_HARD_LINKS.includes(code(error) ?? '')) throw error;
    if (await pathExists(path)) throw taken(path);
    return rename(temp, path);
  }
  await unlink(temp);
}

/** Syncs a directory, so that a new name in it survives a crash; a no-op where directories cannot be synced. */
export async function syncDirectory(path: string): Promise<void> {
  let dir: FileHandle;
  try {
    dir = await open(path, 'r');
  } catch (error) {
    if (['EISDIR', 'EPERM', 'EACCES'].includes(code(error) ?? '')) return;
    throw error;
  }
  try {
    await dir.sync();
  } catch (error) {
    if (!['EINVAL', 'EPERM', 'EBADF'].includes(code(error) ?? '')) throw error;
  } finally {
    await dir.close();
  }
}

/** Whether anything has the name `path` (a link too, even one to nothing). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (code(error) === 'ENOENT') return false;
    throw error;
  }
}
