import { formatBytes, formatDuration } from '../../sim/format';
import { axes, esc, f, inner, linear, linearTicks, byteAxis, niceCeil, strokeWidths, svg, type Frame } from './svg';
import type { CompareRun } from './types';

const FRAME: Frame = { width: 760, height: 320, left: 70, right: 24, top: 16, bottom: 50 };

/** The runs' time axis: from t0 to the end of the longest run, in ms. */
export function timeAxisEnd(runs: readonly CompareRun[]): number {
  let end = 0;
  for (const run of runs) end = Math.max(end, run.stats.durationMs, run.series[run.series.length - 1]?.atMs ?? 0);
  return end > 0 ? niceCeil(end) : 1;
}

/**
 * The pool plot: bytes of the copy pool holding copies not yet written,
 * against time from t0, one step line per run that has a pool (as sampled
 * at each `progress` event: peaks between two samples are in the legend,
 * not the line). The pool's full size is allocated before t0 whatever is in
 * use; the legend gives both.
 */
export function poolPlot(runs: readonly CompareRun[], colors: readonly string[]): string {
  const pooled = runs.map((run, i) => ({ run, i })).filter(({ run }) => run.stats.pool.pages > 0);
  // Step 1: scales: time from t0 to the longest run's end; bytes from 0 to the smallest pool allocated
  // at or above the highest use, so that that pool's size is on the axis and the curves are not squashed
  // under a much larger one.
  const end = timeAxisEnd(runs);
  let used = 0;
  for (const { run } of pooled) {
    used = Math.max(used, run.stats.pool.peakBytes);
    for (const s of run.series) used = Math.max(used, s.poolInUse * run.stats.pageSize);
  }
  const allocated = pooled.map(({ run }) => run.stats.pool.pages * run.stats.pageSize);
  const top = Math.min(...allocated.filter((a) => a >= used), Infinity);
  const bytes = byteAxis(Number.isFinite(top) ? Math.max(top, 1) : Math.max(used, pooled[0]?.run.stats.pageSize ?? 4096));
  const { x0, x1, y0, y1 } = inner(FRAME);
  const px = linear(0, end, x0, x1);
  const py = linear(0, bytes.top, y1, y0);
  const xTicks = linearTicks(end).map((t) => ({ at: px(t), label: formatDuration(t) }));
  const yTicks = bytes.ticks.map((b) => ({ at: py(b), label: formatBytes(b) }));
  const parts = axes(FRAME, xTicks, yTicks, 'time since t0', 'pool in use');
  if (pooled.length === 0) {
    parts.push(`<text x="${f((x0 + x1) / 2)}" y="${f((y0 + y1) / 2)}" text-anchor="middle">${esc('no run had a copy pool')}</text>`);
  }

  // Step 2: each pool's allocated size, a dashed line in its run's colour; sizes above the axis are named at its top.
  const above: string[] = [];
  [...new Set(allocated)].forEach((size) => {
    const owners = pooled.filter(({ run }) => run.stats.pool.pages * run.stats.pageSize === size);
    const color = colors[(owners[0] as (typeof pooled)[number]).i] as string;
    if (size > bytes.top) return void above.push(formatBytes(size));
    const y = py(size);
    parts.push(`<line class="ref" data-allocated="${size}" x1="${x0}" y1="${f(y)}" x2="${x1}" y2="${f(y)}" style="stroke:${color}"/>`);
    parts.push(`<text class="ref-label" x="${f(x1 - 4)}" y="${f(y - 4)}" text-anchor="end">${esc(`${formatBytes(size)} allocated`)}</text>`);
  });
  if (above.length > 0) {
    parts.push(`<text class="ref-label" x="${f(x1 - 4)}" y="${f(y0 + 12)}" text-anchor="end">${esc(`above the axis: ${above.join(', ')} allocated`)}</text>`);
  }

  // Step 3: a step line per run, one pixel column at a time: up to the column's highest value, then to its last.
  const widths = strokeWidths(pooled.length);
  pooled.forEach(({ run, i }, j) => {
    const { pageSize, durationMs } = run.stats;
    let d = `M${f(px(0))},${f(py(0))}`;
    let column = px(0);
    let high = 0;
    let last = 0;
    const flush = (): void => {
      d += ` H${f(column)} V${f(py(high))} V${f(py(last))}`;
    };
    for (const s of run.series) {
      const x = px(Math.max(0, s.atMs));
      const bytes = s.poolInUse * pageSize;
      if (x - column >= 0.5) {
        flush();
        [column, high] = [x, bytes];
      }
      high = Math.max(high, bytes);
      last = bytes;
    }
    flush();
    d += ` H${f(px(Math.max(durationMs, run.series[run.series.length - 1]?.atMs ?? 0)))}`;
    parts.push(`<path class="curve" data-run="${i}" d="${d}" fill="none" stroke="${colors[i] as string}" stroke-width="${f(widths[j] as number)}" stroke-linejoin="round"/>`);
  });
  return svg(FRAME, { id: 'pool-memory', 'data-plot': 'pool-memory' }, 'Copy pool in use over time, per run', parts);
}

/** The pool plot's legend entry for a run. */
export function poolLegend(run: CompareRun): string {
  const { pool, pageSize } = run.stats;
  if (pool.pages === 0) return 'no pool: not drawn';
  return `pool ${formatBytes(pool.pages * pageSize)} allocated, peak in use ${formatBytes(pool.peakBytes)}`;
}
