import { InvalidArgumentError } from 'commander';

/** Units a size may carry: binary (KiB, K) and decimal (kB, MB). */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

/**
 * A size in bytes: `4096`, `16MiB`, `1.5GiB`, `64G`, `500MB` (binary units:
 * KiB MiB GiB TiB, or K M G T; decimal: kB MB GB TB). Must come to a whole
 * number of bytes.
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match === null ? undefined : UNITS[(match[2] ?? '').toLowerCase()];
  if (match === null || factor === undefined) {
    throw new InvalidArgumentError(`expected a size such as 4096, 16MiB or 64GiB, got ${JSON.stringify(text)}`);
  }
  const bytes = Number(match[1]) * factor;
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`expected a whole number of bytes, got ${JSON.stringify(text)}`);
  return bytes;
}

/**
 * A comma-separated list, each item parsed by `parse`. A value given twice
 * (after parsing: `16MiB,16384KiB` too) is kept once, where it first came.
 */
export function parseList<T>(parse: (item: string) => T): (text: string) => T[] {
  return (text) => {
    const items = text.split(',').map((s) => s.trim());
    if (items.some((s) => s.length === 0)) throw new InvalidArgumentError(`expected a comma-separated list, got ${JSON.stringify(text)}`);
    return [...new Set(items.map(parse))];
  };
}

/** One of `choices`. */
export function parseChoice<T extends string>(choices: readonly T[]): (text: string) => T {
  return (text) => {
    if ((choices as readonly string[]).includes(text)) return text as T;
    throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
  };
}

/**
 * A decimal integer from `min` up (to `max` when given), digits only: not
 * `0x10`, `1e3`, `2.0` or `+1`. Out of range and malformed get one wording.
 */
export function parseInteger(min: number, max = Infinity): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Infinity ? `from ${min} up` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected a decimal integer ${range}, got ${JSON.stringify(text)}`);
    }
    return n;
  };
}

/** A decimal number (`0.9`, `.5`, `1e3`; not `0x10`) in [min, max], or above `min` when `exclusiveMin`. */
export function parseNumber(min: number, max = Infinity, exclusiveMin = false): (text: string) => number {
  return (text) => {
    const n = Number(text);
    const decimal = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text);
    const ok = decimal && Number.isFinite(n) && (exclusiveMin ? n > min : n >= min) && n <= max;
    if (!ok) {
      const range = max === Infinity ? `${exclusiveMin ? 'above' : 'from'} ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected a number ${range}, got ${JSON.stringify(text)}`);
    }
    return n;
  };
}
