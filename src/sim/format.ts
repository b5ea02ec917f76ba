/** Human-readable figures for the simulator's table and report. */

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Bytes in binary units: `0 B`, `512 B`, `16 MiB`, `1.5 GiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${trim(value)} ${BINARY_UNITS[unit]}`;
}

/**
 * A bandwidth in the binary units of the reports' sizes, so that one report
 * uses one unit family: `143 MiB/s` (150 MB/s), `2.79 GiB/s`.
 */
export function formatBandwidth(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** A stall or short time, from milliseconds: `0`, `850 µs`, `4.18 ms`, `1.20 s`. */
export function formatMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1) return `${trim(ms * 1000)} µs`;
  if (ms < 1000) return `${trim(ms)} ms`;
  return `${trim(ms / 1000)} s`;
}

/** A duration, from milliseconds: `850 ms`, `12.4 s`, `7.5 min`, `37.4 h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return formatMs(ms);
  const s = ms / 1000;
  if (s < 120) return `${trim(s)} s`;
  if (s < 7200) return `${trim(s / 60)} min`;
  return `${trim(s / 3600)} h`;
}

/** A share from 0 to 1 as a percentage: `0.4%`, `81%`. */
export function formatShare(share: number): string {
  const pct = share * 100;
  if (pct === 0 || pct >= 10) return `${pct.toFixed(0)}%`;
  return `${pct < 0.1 ? pct.toPrecision(1) : pct.toFixed(1)}%`;
}

/** Three significant digits, no trailing zeros past the point. */
function trim(value: number): string {
  const abs = Math.abs(value);
  const text = abs >= 100 || Number.isInteger(value) ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/**
 * Rows as a plain-text table: the first column left-aligned, the others
 * right-aligned (figures), or all left-aligned (label and text).
 */
export function formatTable(rows: readonly (readonly string[])[], align: 'figures' | 'text' = 'figures'): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const pad = (cell: string, i: number): string =>
    i === 0 || align === 'text' ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0);
  return rows.map((r) => r.map(pad).join('  ').trimEnd()).join('\n');
}
