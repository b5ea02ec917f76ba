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
  // Step 1: scales: time from t0 to the longest run's end; bytes from 0 to the highest peak.
  const end = timeAxisEnd(runs);
  let top = 0;
  for (const { run } of pooled) {
    top = Math.max(top, run.stats.pool.peakBytes);
    for (const s of run.series) top = Math.max(top, s.poolInUse * run.stats.pageSize);
  }
  const bytes = byteAxis(Math.max(top, pooled[0]?.run.stats.pageSize ?? 4096));
  const { x0, x1, y0, y1 } = inner(FRAME);
  const px = linear(0, end, x0, x1);
  const py = linear(0, bytes.top, y1, y0);
  const xTicks = linearTicks(end).map((t) => ({ at: px(t), label: formatDuration(t) }));
  const yTicks = bytes.ticks.map((b) => ({ at: py(b), label: formatBytes(b) }));
  const parts = axes(FRAME, xTicks, yTicks, 'time since t0', 'pool in use');
  if (pooled.length === 0) {
    parts.push(`<text x="${f((x0 + x1) / 2)}" y="${f((y0 + y1) / 2)}" text-anchor="middle">${esc('no run had a copy pool')}</text>`);
  }

  // Step 2: a step line per run, one pixel column at a time: up to the column's highest value, then to its last.
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
