import type * as nodeFs from 'node:fs';

/** The file system calls a `FileSink` makes. */
export type FileSinkFs = Pick<typeof nodeFs, 'openSync' | 'lstatSync' | 'writev' | 'fsync' | 'close' | 'open' | 'link' | 'rename' | 'unlink'>;

/**
 * Writes all of `chunks` at `position` with `writev`. A short write (the
 * device filled up part way, say) is followed by a write of the rest, which
 * then reports the error; a write that makes no progress is an error.
 */
export function writeAll(
  fs: FileSinkFs,
  fd: number,
  chunks: Uint8Array[],
  position: number,
  bytes: number,
  done: (error: NodeJS.ErrnoException | null) => void,
): void {
  fs.writev(fd, chunks, position, (error, written) => {
    if (error) return done(error);
    if (written === bytes) return done(null);
    if (written <= 0) return done(Object.assign(new Error(`writev wrote ${written} of ${bytes} bytes at offset ${position}`), { code: 'EIO' }));
    writeAll(fs, fd, dropBytes(chunks, written), position + written, bytes - written, done);
  });
}

/** The chunks without their first `n` bytes. */
function dropBytes(chunks: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < chunks.length && n >= (chunks[i] as Uint8Array).length) n -= (chunks[i++] as Uint8Array).length;
  const rest = chunks.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = (rest[0] as Uint8Array).subarray(n);
  return rest;
}
