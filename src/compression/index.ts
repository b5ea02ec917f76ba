export type { Codec, CodecId } from './Codec';
export { CodecIds } from './Codec';
export { noneCodec } from './none';
export { zstdCodec } from './zstd';
export { chooseCodec, COMPRESSIONS, DEFAULT_COMPRESSION } from './choose';
export type { Compression } from './choose';
