import { compress } from 'zstd-napi';
import { DCtx, findFrameCompressedSize, getFrameContentSize } from 'zstd-napi/binding';
import { CodecError } from '../errors';
import { CodecIds, type Codec } from './Codec';

/** One decompression context, reused: decompression is synchronous. */
let dctx: DCtx | undefined;

/**
 * zstd (RFC 8878 frames) through zstd-napi, at level 1: 426 MiB/s on one
 * core with a ratio of 0.41 on the benchmark's mix (docs/BENCHMARKS.md,
 * `npm run bench:compress`). A frame is decompressed into a buffer of the
 * length expected, never of the length the frame claims, so a corrupt frame
 * cannot make it allocate more; bytes after the one frame are refused.
 */
export const zstdCodec: Codec = {
  name: 'zstd',
  id: CodecIds.zstd,
  compress(data) {
    return compress(data, { compressionLevel: 1 });
  },
  decompress(frame, length) {
    const out = Buffer.allocUnsafe(length);
    let decoded: number;
    try {
      const frameBytes = findFrameCompressedSize(frame);
      if (frameBytes !== frame.length) throw new Error(`the frame is ${frameBytes} of the ${frame.length} bytes given`);
      dctx ??= new DCtx();
      decoded = dctx.decompress(out, frame);
    } catch (error) {
      // A frame that says it holds more than expected decodes to that many bytes: say so, without decoding it.
      const claimed = safeContentSize(frame);
      if (claimed !== undefined && claimed > length) throw new CodecError('zstd', length, claimed);
      throw new CodecError('zstd', length, undefined, error);
    }
    if (decoded !== length) throw new CodecError('zstd', length, decoded);
    return out;
  },
};

/** The content size a frame's header gives, or `undefined` when it gives none or is not a frame. */
function safeContentSize(frame: Uint8Array): number | undefined {
  try {
    return getFrameContentSize(frame) ?? undefined;
  } catch {
    return undefined;
  }
}
