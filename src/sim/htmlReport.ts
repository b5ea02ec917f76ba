import { formatBytes, formatDuration, formatMs } from './format';
import type { SweepRow } from './sweep';
import { sweepRows } from './tables';
import { esc, htmlTable } from './html';

export interface HtmlReportOptions {
  /**
   * The page's title.
   * @default 'bgsnap simulate: writer stall against host memory'
   */
  readonly title?: string;
  /** A line under the title: what was simulated (memory, workload, seed). */
  readonly subtitle?: string;
}

const COLORS: Record<string, string> = { queue: '#c0392b', copy: '#2471a3' };
const W = 600;
const H = 340;
const M = { left: 64, right: 20, top: 20, bottom: 52 };

/** What a plot puts on its y axis. */
interface Measure {
  readonly label: string;
  readonly of: (row: SweepRow) => number;
  readonly format: (ms: number) => string;
}

const STALL: Measure = { label: 'writer stall p99', of: (r) => r.result.stats.stall.p99, format: formatMs };
const DURATION: Measure = { label: 'snapshot duration', of: (r) => r.result.stats.durationMs, format: formatDuration };

/**
 * A self-contained HTML page for a sweep: per storage profile, two inline
 * SVG plots side by side against host memory (`HostMemory.allocatedBytes`:
 * page states + the whole copy pool, allocated before t0; on a log scale),
 * one of writer stall p99 and one of the snapshot's duration, so that a run
 * with a low stall that takes far longer shows as such; one series per
 * strategy, a one-line answer to "lower writer delay or lower memory?", and
 * the full table. No scripts, no external resources.
 */
export function sweepHtml(rows: readonly SweepRow[], options: HtmlReportOptions = {}): string {
  const title = options.title ?? 'bgsnap simulate: writer stall against host memory';
  const storages = [...new Set(rows.map((r) => r.storage))];
  const sections = storages.map((storage) => {
    const mine = rows.filter((r) => r.storage === storage);
    return `<section>
<h2>${esc(storage)}</h2>
<p>${esc(verdict(mine))}</p>
<div class="plots">
${chart(mine, STALL)}
${chart(mine, DURATION)}
</div>
</section>`;
  });
  const table = sweepRows(rows);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 62em; color: #222; padding: 0 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
svg { background: #fff; border: 1px solid #ddd; max-width: 100%; height: auto; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { padding: 3px 9px; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
.note { color: #555; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
${options.subtitle !== undefined ? `<p class="note">${esc(options.subtitle)}</p>` : ''}
<p class="note">Writer stall: time from a write's fault to its page's unprotect, in virtual time (p99 over all faults;
a copy takes its time too, at the simulation's copy bandwidth). Snapshot duration: from t0 to the end, in virtual time.
Host memory: the page-state map (one byte per page) plus the copy pool, which is allocated in full before t0;
the table's pool peak is the most of the pool a run used at once.</p>
${sections.join('\n')}
<h2>All runs</h2>
${htmlTable(table)}
</body>
</html>
`;
}

/** One sentence: what the pool buys over `queue` on this storage. */
function verdict(rows: readonly SweepRow[]): string {
  const queue = rows.find((r) => r.strategy === 'queue');
  const copies = rows.filter((r) => r.strategy === 'copy');
  if (queue === undefined || copies.length === 0) return '';
  // The copy run with the lowest p99, and among those the least memory.
  const best = [...copies].sort(
    (a, b) => a.result.stats.stall.p99 - b.result.stats.stall.p99 || a.result.hostMemory.allocatedBytes - b.result.hostMemory.allocatedBytes,
  )[0] as SweepRow;
  const q = queue.result;
  const c = best.result;
  return (
    `queue: p99 ${formatMs(q.stats.stall.p99)} with ${formatBytes(q.hostMemory.allocatedBytes)}, done in ${formatDuration(q.stats.durationMs)}; ` +
    `copy at its best (pool ${formatBytes(best.poolBytes)}): p99 ${formatMs(c.stats.stall.p99)} with ${formatBytes(c.hostMemory.allocatedBytes)}, ` +
    `done in ${formatDuration(c.stats.durationMs)}.`
  );
}

/** The SVG plot of one storage's runs: `measure` against host memory. */
function chart(rows: readonly SweepRow[], measure: Measure): string {
  const points = rows.map((r) => ({ row: r, x: r.result.hostMemory.allocatedBytes, y: measure.of(r) }));
  // Step 1: scales. x is log2 of bytes, widened to at least a factor 4; y is linear from 0.
  let lo = Math.log2(Math.max(1, Math.min(...points.map((p) => p.x))));
  let hi = Math.log2(Math.max(1, Math.max(...points.map((p) => p.x))));
  if (hi - lo < 2) [lo, hi] = [lo - 1, hi + 1];
  [lo, hi] = [lo - (hi - lo) * 0.08, hi + (hi - lo) * 0.08];
  const yMax = niceCeil(Math.max(...points.map((p) => p.y)) * 1.1 || 1);
  const px = (bytes: number): number => M.left + ((Math.log2(Math.max(1, bytes)) - lo) / (hi - lo)) * (W - M.left - M.right);
  const py = (ms: number): number => H - M.bottom - (ms / yMax) * (H - M.top - M.bottom);

  // Step 2: axes and grid.
  const parts: string[] = [];
  const xStep = Math.max(1, Math.ceil((hi - lo) / 7));
  for (let e = Math.ceil(lo); e <= hi; e += 1) {
    if (e % xStep !== 0) continue;
    const x = px(2 ** e);
    parts.push(`<line x1="${f(x)}" y1="${M.top}" x2="${f(x)}" y2="${H - M.bottom}" stroke="#eee"/>`);
    const anchor = x > W - M.right - 24 ? 'end' : 'middle';
    parts.push(`<text x="${f(x)}" y="${H - M.bottom + 16}" text-anchor="${anchor}">${esc(formatBytes(2 ** e))}</text>`);
  }
  for (const v of ticks(yMax)) {
    const y = py(v);
    parts.push(`<line x1="${M.left}" y1="${f(y)}" x2="${W - M.right}" y2="${f(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${f(y + 4)}" text-anchor="end">${esc(measure.format(v))}</text>`);
  }
  parts.push(`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#888"/>`);
  parts.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#888"/>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">host memory: page states + pool (log scale)</text>`);
  parts.push(`<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(measure.label)}</text>`);

  // Step 3: one series per strategy, points only (no line: pool sizes between two runs were not run);
  // queue first, as hollow squares, so that a copy run on the same spot (pool 0) shows inside, drawn over it.
  const strategies = [...new Set(points.map((p) => p.row.strategy))].sort((a, b) => Number(b === 'queue') - Number(a === 'queue'));
  const marks: { x: number; y: number; color: string; row: SweepRow }[] = [];
  strategies.forEach((strategy, i) => {
    const color = COLORS[strategy] ?? '#555';
    const series = points.filter((p) => p.row.strategy === strategy).sort((a, b) => a.x - b.x);
    for (const p of series) {
      const { stats, hostMemory } = p.row.result;
      const pool = strategy === 'queue' ? '' : ` (pool peak ${formatBytes(hostMemory.poolPeakBytes)})`;
      const tip = `${pointName(p.row)}: p99 ${formatMs(stats.stall.p99)}, host ${formatBytes(p.x)}${pool}, ${stats.faults} faults, done in ${formatDuration(stats.durationMs)}`;
      const [x, y] = [px(p.x), py(p.y)];
      parts.push(
        strategy === 'queue'
          ? `<rect x="${f(x - 7)}" y="${f(y - 7)}" width="14" height="14" fill="none" stroke="${color}" stroke-width="2"><title>${esc(tip)}</title></rect>`
          : `<circle cx="${f(x)}" cy="${f(y)}" r="4.5" fill="${color}"><title>${esc(tip)}</title></circle>`,
      );
      marks.push({ x, y, color, row: p.row });
    }
    // The legend, top right.
    const ly = M.top + 8 + i * 16;
    parts.push(`<rect x="${W - M.right - 90}" y="${ly - 8}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${W - M.right - 74}" y="${ly + 1}">${esc(strategy)}</text>`);
  });
  // Step 4: labels. Points on the same spot share one, naming each of them (`queue, pool 0 B`).
  // Labels go to the left of points on the right-hand side, so they stay inside.
  const spots = new Map<string, (typeof marks)[number][]>();
  for (const mark of marks) {
    const key = `${Math.round(mark.x)},${Math.round(mark.y)}`;
    spots.set(key, [...(spots.get(key) ?? []), mark]);
  }
  for (const here of spots.values()) {
    const { x, y, color } = here[0] as (typeof marks)[number];
    const text = here.map((m) => (m.row.strategy === 'queue' ? 'queue' : `pool ${formatBytes(m.row.poolBytes)}`)).join(', ');
    const right = x > W * 0.6;
    parts.push(`<text x="${f(right ? x - 9 : x + 9)}" y="${f(y - 9)}" fill="${color}" text-anchor="${right ? 'end' : 'start'}">${esc(text)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">\n${parts.join('\n')}\n</svg>`;
}

/** A run as the plot names it: `queue`, or `copy, pool 16 MiB`. */
function pointName(row: SweepRow): string {
  return row.strategy === 'queue' ? 'queue' : `${row.strategy}, pool ${formatBytes(row.poolBytes)}`;
}

/** The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^n) at or above `v`. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Five tick values from 0 to `max` (a `niceCeil` value). */
function ticks(max: number): number[] {
  return [0, 1, 2, 3, 4, 5].map((i) => (max * i) / 5);
}

function f(n: number): string {
  return n.toFixed(1);
}

