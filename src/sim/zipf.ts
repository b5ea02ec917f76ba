import { OptionError } from '../errors';
import type { Uniform } from './random';

/**
 * Samples ranks 1..n with probability proportional to 1 / k^s, by
 * rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", ACM TOMACS 6(3),
 * 1996), as Apache Commons does it. O(1) memory whatever `n`, and O(1)
 * expected time per sample: it inverts the integral of a continuous hat
 * function and rejects rarely (well under one retry per sample on average).
 */
export class ZipfSampler {
  /** H(1.5) - 1: the hat's integral at the lower end, shifted so rank 1 gets its full mass. */
  private readonly hX1: number;
  /** H(n + 0.5): the hat's integral at the upper end. */
  private readonly hN: number;
  /** Ranks whose continuous variate lies this close below them are accepted without the test. */
  private readonly shortcut: number;

  constructor(
    /** Ranks to sample from, from 1. */
    readonly n: number,
    /** The exponent s, above 0. */
    readonly exponent: number,
  ) {
    if (!Number.isSafeInteger(n) || n < 1) throw new OptionError('n', 'an integer from 1 up', n);
    if (typeof exponent !== 'number' || !(exponent > 0) || !Number.isFinite(exponent)) {
      throw new OptionError('zipfExponent', 'a finite number above 0', exponent);
    }
    this.hX1 = this.hIntegral(1.5) - 1;
    this.hN = this.hIntegral(n + 0.5);
    this.shortcut = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank from 1 to `n`. */
  sample(random: Uniform): number {
    for (;;) {
      // Step 1: a uniform point under the hat, between H(n + 0.5) and H(1.5) - 1.
      const u = this.hN + random.next() * (this.hX1 - this.hN);
      // Step 2: invert it to a continuous variate and round it to the nearest rank.
      const x = this.hIntegralInverse(u);
      const k = Math.min(this.n, Math.max(1, Math.floor(x + 0.5)));
      // Step 3: accept when the point falls under the rank's own bar.
      if (k - x <= this.shortcut || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  /** h(x) = x^-s, the hat. */
  private h(x: number): number {
    return Math.exp(-this.exponent * Math.log(x));
  }

  /** H(x) = (x^(1-s) - 1) / (1 - s), the integral of h; log x when s = 1. */
  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return expm1OverX((1 - this.exponent) * logX) * logX;
  }

  /** The inverse of H. */
  private hIntegralInverse(x: number): number {
    // Numerical error can push t just below -1, where log1p has no value.
    const t = Math.max(-1, x * (1 - this.exponent));
    return Math.exp(log1pOverX(t) * x);
  }
}

/** log(1 + x) / x, exact near 0 (where it tends to 1). */
function log1pOverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (1 / 2 - x * (1 / 3 - x / 4));
}

/** (e^x - 1) / x, exact near 0 (where it tends to 1). */
function expm1OverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + (x / 2) * (1 + (x / 3) * (1 + x / 4));
}
