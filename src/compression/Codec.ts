/**
 * The codec contract: how a record's page bytes are compressed. `id` is the
 * codec byte of the file header (docs/FORMAT.md): none 0, zstd 1, lz4 2,
 * zlib 3. A frame is self-contained: it decompresses alone, to exactly the
 * bytes it was made from.
 */
export interface Codec {
  readonly name: string;
  readonly id: CodecId;
  /** One frame holding `data`. */
  compress(data: Uint8Array): Uint8Array;
  /**
   * The bytes of `frame`, which must be exactly `length` bytes.
   * @throws CodecError when the frame is corrupt or decodes to another length.
   */
  decompress(frame: Uint8Array, length: number): Uint8Array;
}

/** The FORMAT.md codec byte. */
export const CodecIds = { none: 0, zstd: 1, lz4: 2, zlib: 3 } as const;
export type CodecId = (typeof CodecIds)[keyof typeof CodecIds];
