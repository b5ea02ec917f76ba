import { compress, decompress } from 'zstd-napi';
import { CodecError } from '../errors';
import { CodecIds, type Codec } from './Codec';

/**
 * zstd (RFC 8878 frames) through zstd-napi, at level 1: 426 MiB/s on one
 * core with a ratio of 0.41 on the benchmark's mix (docs/BENCHMARKS.md,
 * `npm run bench:compress`).
 */
export const zstdCodec: Codec = {
  name: 'zstd',
  id: CodecIds.zstd,
  compress(data) {
    return compress(data, { compressionLevel: 1 });
  },
  decompress(frame, length) {
    let out: Uint8Array;
    try {
      out = decompress(frame);
    } catch (error) {
      throw new CodecError('zstd', length, undefined, error);
    }
    if (out.length !== length) throw new CodecError('zstd', length, out.length);
    return out;
  },
};
