import { CodecError, FormatError } from '../errors';
import type { Codec } from '../compression/Codec';
import { zstdCodec } from '../compression/zstd';
import type { CodecName } from './layout';

/** The codecs this reader decompresses, by the header's codec name. */
const SUPPORTED: ReadonlyMap<CodecName, Codec | undefined> = new Map<CodecName, Codec | undefined>([
  ['none', undefined],
  ['zstd', zstdCodec],
]);

/** A problem at the header's codec byte `at` when this reader cannot decompress `codec`, or `undefined`. */
export function unsupportedCodec(at: number, codec: CodecName): FormatError | undefined {
  if (SUPPORTED.has(codec)) return undefined;
  return new FormatError(at, `a codec this reader supports (${[...SUPPORTED.keys()].join(', ')})`, `codec ${codec}, which is not supported by this reader`);
}

/**
 * The data of a record flagged compressed: one frame of `codec` that must
 * decompress to exactly `bytes` bytes.
 * @param at the record's file offset, for the error.
 * @throws FormatError at `at` when the frame is corrupt or decodes to another length.
 */
export function decompress(codec: CodecName, frame: Uint8Array, bytes: number, at: number): Uint8Array {
  const decoder = SUPPORTED.get(codec);
  if (decoder === undefined) {
    throw new FormatError(at, 'a record this reader can decompress', `a record compressed with codec ${codec}, which is not supported by this reader`);
  }
  try {
    return decoder.decompress(frame, bytes);
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    const found = error.found === undefined ? `a corrupt ${codec} frame (${error.message})` : `a ${codec} frame of ${error.found} bytes`;
    throw new FormatError(at, `a record whose ${codec} frame decompresses to ${bytes} bytes`, found);
  }
}
