import { FormatError } from '../errors';
import type { CodecName } from './layout';

/**
 * The codecs this reader decompresses. Records are written plain for now;
 * a codec is added here and in `decompress`.
 */
const SUPPORTED: ReadonlySet<CodecName> = new Set<CodecName>(['none']);

/** A problem at the header's codec byte `at` when this reader cannot decompress `codec`, or `undefined`. */
export function unsupportedCodec(at: number, codec: CodecName): FormatError | undefined {
  if (SUPPORTED.has(codec)) return undefined;
  return new FormatError(at, `a codec this reader supports (${[...SUPPORTED].join(', ')})`, `codec ${codec}, which is not supported by this reader`);
}

/**
 * The data of a record flagged compressed: one frame of `codec` that must
 * decompress to exactly `bytes` bytes. Where decompression plugs in.
 * @param at the record's file offset, for the error.
 * @throws FormatError: no codec is supported yet.
 */
export function decompress(codec: CodecName, frame: Uint8Array, bytes: number, at: number): Uint8Array {
  void frame;
  void bytes;
  throw new FormatError(at, 'a record this reader can decompress', `a record compressed with codec ${codec}, which is not supported by this reader`);
}
