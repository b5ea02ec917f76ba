import { createHash } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { OptionError } from '../errors';

/** A source of uniform numbers in [0, 1): what the samplers draw from. */
export interface Uniform {
  next(): number;
}

type Generator = ReturnType<typeof xoroshiro128plus>;

/** One seeded stream of random numbers (xoroshiro128+ from `pure-rand`). */
export class RandomStream implements Uniform {
  private constructor(private readonly rng: Generator) {}

  /**
   * `count` independent streams from one seed: stream `i` starts `i` jumps
   * (2^64 steps each) into the seed's sequence, so no two streams overlap and
   * each stream is the same whatever the others draw.
   */
  static split(seed: number, count: number): RandomStream[] {
    const rng = xoroshiro128plus(seed);
    const streams: RandomStream[] = [];
    for (let i = 0; i < count; i++) {
      streams.push(new RandomStream(rng.clone()));
      rng.jump();
    }
    return streams;
  }

  /** Uniform in [0, 1), with 53 random bits. */
  next(): number {
    return uniformFloat64(this.rng);
  }

  /** Exponentially distributed with mean `mean`: the gap between Poisson arrivals. */
  exponential(mean: number): number {
    return -Math.log1p(-this.next()) * mean;
  }
}

/** Checks a seed: a 32-bit unsigned integer. */
export function checkSeed(seed: unknown, option = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new OptionError(option, 'an integer from 0 to 4294967295', seed);
  }
  return seed;
}

/** `RandomStream.split`: `count` independent streams from one seed. */
export function randomStreams(seed: number, count: number): RandomStream[] {
  return RandomStream.split(seed, count);
}

/** A snapshot id (a version 4 UUID) that depends on the seed alone, so a seeded run is repeatable. */
export function seededId(seed: number): string {
  const hex = createHash('sha256').update(`bgsnap simulate ${seed}`).digest('hex');
  // The version (4) and variant (10xx) bits, as a random UUID has them.
  const variant = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
