// The codecs keep the contract: a frame decodes to exactly its bytes; a
// frame that decodes to another length, or a corrupt one, is refused with a
// named CodecError.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CodecIds, noneCodec, zstdCodec, type Codec } from '../../src/compression';
import { CodecError } from '../../src/errors';

const text = Buffer.from('{"level":"info","msg":"snapshot page written"}\n'.repeat(6000));
const samples: Record<string, Uint8Array> = {
  empty: new Uint8Array(0),
  zero: new Uint8Array(256 * 1024),
  text,
  random: randomBytes(64 * 1024),
};

describe.each([noneCodec, zstdCodec] as Codec[])('$name', (codec) => {
  it.each(Object.keys(samples))('round trip: %s', (kind) => {
    const data = samples[kind] as Uint8Array;
    const frame = codec.compress(data);
    expect(Buffer.compare(codec.decompress(frame, data.length), data)).toBe(0);
  });

  it('refuses a frame that decodes to another length', () => {
    const frame = codec.compress(text);
    expect(() => codec.decompress(frame, text.length + 1)).toThrow(CodecError);
    expect(() => codec.decompress(frame, text.length - 1)).toThrow(expect.objectContaining({ name: 'CodecError', expected: text.length - 1, found: text.length }));
  });
});

describe('zstd', () => {
  it('has the FORMAT.md codec byte 1 and compresses text', () => {
    expect(zstdCodec.id).toBe(CodecIds.zstd);
    expect(zstdCodec.id).toBe(1);
    expect(zstdCodec.compress(text).length).toBeLessThan(text.length / 10);
  });

  it('refuses a corrupt frame with a CodecError', () => {
    const frame = Buffer.from(zstdCodec.compress(text));
    frame[0] = (frame[0] as number) ^ 0xff; // the magic number
    expect(() => zstdCodec.decompress(frame, text.length)).toThrow(CodecError);
    const truncated = zstdCodec.compress(text).subarray(0, 20);
    expect(() => zstdCodec.decompress(truncated, text.length)).toThrow(CodecError);
  });
});
