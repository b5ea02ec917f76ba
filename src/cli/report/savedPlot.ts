import { formatDuration } from '../../sim/format';
import { axes, f, inner, linear, linearTicks, svg, type Frame } from './svg';
import type { CompareRun, ProgressSample } from './types';

const FRAME: Frame = { width: 372, height: 220, left: 52, right: 12, top: 12, bottom: 46 };

/** How pages reached storage, bottom to top in the stack, with their colours. */
export const SAVE_LAYERS = [
  { via: 'bulk', color: '#8FA6BF', name: 'bulk pass' },
  { via: 'fault', color: '#D55E00', name: 'fault (written while a writer waited)' },
  { via: 'copy', color: '#E69F00', name: 'copy (taken when a writer faulted)' },
] as const;

/**
 * The pages-saved plot of one run: pages saved since t0 by the bulk pass, by
 * faults and by copies, stacked, against time on the axis `end` ms long that
 * every run's plot shares, so that durations compare at a glance. Sampled at
 * each `progress` event. After the run's end the pages stay saved: the areas
 * hold their last level to the axis's end, past a dashed line marking `done`.
 */
export function savedPlot(run: CompareRun, index: number, end: number, name: string): string {
  const { totalPages, durationMs } = run.stats;
  const { x0, x1, y0, y1 } = inner(FRAME);
  const px = linear(0, end, x0, x1);
  const py = linear(0, Math.max(1, totalPages), y1, y0);
  // Every tick gets a grid line; on this narrow axis, with more than four steps, every other one a label.
  const times = linearTicks(end);
  const xTicks = times.map((t, k) => ({ at: px(t), label: times.length > 5 && k % 2 === 1 ? '' : formatDuration(t) }));
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((share) => ({ at: py(share * totalPages), label: `${share * 100}%` }));
  const parts = axes(FRAME, xTicks, yTicks, 'time since t0', `of ${totalPages} pages`);

  // Step 1: the samples from t0, one per pixel column (the column's last), held to the run's end.
  const points: { x: number; sample: ProgressSample }[] = [{ x: px(0), sample: { atMs: 0, poolInUse: 0, saved: { bulk: 0, fault: 0, copy: 0 } } }];
  for (const sample of run.series) {
    const x = px(Math.max(0, sample.atMs));
    const last = points[points.length - 1] as (typeof points)[number];
    if (x - last.x < 0.5) last.sample = sample;
    else points.push({ x, sample });
  }
  const final = points[points.length - 1] as (typeof points)[number];
  const endX = px(Math.max(durationMs, final.sample.atMs));
  if (endX - final.x >= 0.5) points.push({ x: endX, sample: final.sample });
  if (x1 - endX >= 0.5) points.push({ x: x1, sample: final.sample });

  // Step 2: the layers, each an area between the layers under it and itself.
  let below = points.map(() => 0);
  for (const layer of SAVE_LAYERS) {
    const above = points.map((p, k) => (below[k] as number) + p.sample.saved[layer.via]);
    if (above.some((v, k) => v > (below[k] as number))) {
      const top = points.map((p, k) => `${f(p.x)},${f(py(above[k] as number))}`);
      const bottom = points.map((p, k) => `${f(p.x)},${f(py(below[k] as number))}`).reverse();
      parts.push(`<path class="area" data-via="${layer.via}" d="M${top.join(' L')} L${bottom.join(' L')} Z" fill="${layer.color}"/>`);
    }
    below = above;
  }
  parts.push(`<line class="ref" data-done="${f(durationMs)}" x1="${f(endX)}" y1="${y0}" x2="${f(endX)}" y2="${y1}"/>`);
  const right = endX > x1 - 40;
  parts.push(`<text class="ref-label" x="${f(right ? endX - 3 : endX + 3)}" y="${f(y0 + 11)}" text-anchor="${right ? 'end' : 'start'}">done</text>`);
  return svg(FRAME, { 'data-plot': 'pages-saved', 'data-run': String(index) }, `Pages saved over time: ${name}`, parts);
}
