import type { ByteSource } from './ByteSource';

/**
 * Reads a source front to back through one buffer, so that parsing costs no
 * call per field. It reads with positional reads from byte 0 (or from
 * `start`), so several readers can read one source, each on its own.
 */
export class ByteReader {
  private buffer: Buffer;
  /** Unread bytes are `buffer[start, end)`. */
  private start = 0;
  private end = 0;
  private atEof = false;
  /** File offset of `buffer[start]`: the next byte to be taken. */
  private offset: number;
  /** File offset of `buffer[end]`: the next byte to be read from the file. */
  private readAt: number;
  /** The file's size in bytes when it was opened: the buffer never grows for bytes beyond it. */
  private readonly size: number;

  constructor(
    private readonly file: ByteSource,
    /**
     * Bytes read from the file per call, at least; or a buffer to read into
     * (its length is the chunk), which the reader owns until it is dropped:
     * a caller that reads many small ranges reuses one, since a fresh large
     * buffer costs its first touch.
     */
    chunkBytes: number | Buffer = 4 * 1024 * 1024,
    /** File offset of the first byte to read. */
    start = 0,
  ) {
    this.size = file.size;
    this.buffer = typeof chunkBytes === 'number' ? Buffer.allocUnsafe(chunkBytes) : chunkBytes;
    this.offset = start;
    this.readAt = start;
  }

  /** File offset of the next byte `take` returns. */
  get position(): number {
    return this.offset;
  }

  /** Bytes buffered and not yet taken. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * Makes `n` bytes available to `take`, reading as needed. Resolves to false
   * when the file ends first (the bytes that are there stay buffered). A
   * request that would grow the buffer past what the file holds (a corrupt
   * length, say) reads what is left and resolves to false.
   */
  async ensure(n: number): Promise<boolean> {
    if (this.end - this.start >= n) return true;
    const left = Math.max(0, this.size - this.offset);
    if (n > left && n > this.buffer.length) {
      await this.fill(left);
      return false;
    }
    return this.fill(n);
  }

  /** The next `n` buffered bytes, without taking them. A view, valid until the next `ensure`. */
  peek(n: number): Buffer {
    return this.buffer.subarray(this.start, this.start + Math.min(n, this.end - this.start));
  }

  /** The next `n` bytes, which `ensure(n)` made available. A view, valid until the next `ensure`. */
  take(n: number): Buffer {
    if (this.end - this.start < n) throw new RangeError(`take(${n}) with ${this.end - this.start} bytes buffered`);
    const view = this.buffer.subarray(this.start, this.start + n);
    this.start += n;
    this.offset += n;
    return view;
  }

  /** Reads until `n` bytes are buffered or the file ends. */
  private async fill(n: number): Promise<boolean> {
    if (this.end - this.start >= n) return true;
    // Step 1: make room for n bytes after `start`: move the unread bytes down, or grow.
    if (this.buffer.length - this.start < n) {
      const unread = this.end - this.start;
      if (this.buffer.length >= n) {
        this.buffer.copyWithin(0, this.start, this.end);
      } else {
        const bigger = Buffer.allocUnsafe(Math.max(n, this.buffer.length * 2));
        this.buffer.copy(bigger, 0, this.start, this.end);
        this.buffer = bigger;
      }
      this.start = 0;
      this.end = unread;
    }
    // Step 2: read until there are n bytes or the file ends.
    while (this.end - this.start < n && !this.atEof) {
      const bytesRead = await this.file.read(this.buffer, this.end, this.buffer.length - this.end, this.readAt);
      if (bytesRead === 0) this.atEof = true;
      this.end += bytesRead;
      this.readAt += bytesRead;
    }
    return this.end - this.start >= n;
  }
}
