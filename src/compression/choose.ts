import { OptionError } from '../errors';
import type { Codec } from './Codec';
import { noneCodec } from './none';
import { zstdCodec } from './zstd';

/** How a sink stores records: plain, or compressed with a codec (docs/FORMAT.md, "Compressed records"). */
export type Compression = 'none' | 'zstd';

/** The codecs a sink writes with, by name. */
export const COMPRESSIONS: Readonly<Record<Compression, Codec>> = { none: noneCodec, zstd: zstdCodec };

/** The codec a `compression` option asks for: `'default'` is zstd. */
export const DEFAULT_COMPRESSION: Exclude<Compression, 'none'> = 'zstd';

/**
 * The codec for a sink's `compression` option (`undefined` is `'none'`).
 * @throws OptionError naming `option` when the value is not a codec a sink writes.
 */
export function chooseCodec(value: unknown, option = 'compression'): Codec {
  if (value === undefined) return noneCodec;
  if (typeof value === 'string' && Object.hasOwn(COMPRESSIONS, value)) return COMPRESSIONS[value as Compression];
  throw new OptionError(option, `one of ${Object.keys(COMPRESSIONS).map((k) => `'${k}'`).join(', ')}`, value);
}
