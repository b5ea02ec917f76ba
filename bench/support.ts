/** Small helpers shared by the benchmark scripts. */
import { formatTable } from '../src/sim/format';

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Milliseconds taken by `fn`, awaited. */
export async function timed(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** A table of rows, numbers rounded, columns padded as the CLI pads them, to stdout. */
export function printTable(rows: readonly (readonly (string | number)[])[]): void {
  console.log(formatTable(rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))));
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toFixed(3);
}
