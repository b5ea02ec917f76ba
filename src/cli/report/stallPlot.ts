import { formatMs } from '../../sim/format';
import { axes, decades, f, inner, log, minorGrid, strokeWidths, svg, type Frame } from './svg';
import type { CompareRun, StallDistribution } from './types';

const FRAME: Frame = { width: 760, height: 420, left: 70, right: 44, top: 16, bottom: 50 };

/** One point of a survival curve: the share of faults that waited longer than `micros`. */
interface Step {
  readonly micros: number;
  readonly share: number;
}

/**
 * The writer-stall plot: for each run, the share of faults that waited
 * longer than x, against x, both on log scales (a survival curve, or
 * complementary CDF). A curve further down and to the left is better; where
 * it crosses the 50% and 1% lines are the p50 and p99. Each curve starts at
 * 100% on the axis's left end and drops there by the share of stalls at or
 * under it (0 included). Runs known by
 * percentiles only are drawn through them, with a mark on each.
 */
export function stallPlot(runs: readonly CompareRun[], colors: readonly string[]): string {
  // Step 1: the axes. x covers every stall above 0, in whole decades, at least two;
  // y goes from 100% down past one fault in the run with the most.
  let least = Infinity;
  let largest = 0;
  let most = 1;
  for (const { stalls } of runs) {
    const values = stalls.kind === 'samples' ? stalls.micros : stalls.points.map((p) => p.micros);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v > 0 && Number.isFinite(v)) [least, largest] = [Math.min(least, v), Math.max(largest, v)];
    }
    most = Math.max(most, stalls.kind === 'samples' ? stalls.micros.length : stalls.count);
  }
  let lo = largest === 0 ? 1 : 10 ** Math.floor(Math.log10(least));
  let hi = largest === 0 ? 1000 : 10 ** Math.ceil(Math.log10(largest));
  if (hi / lo < 100) [lo, hi] = [Math.min(lo, hi / 100), Math.max(hi, lo * 100)];
  const floor = Math.min(1e-3, Math.max(1e-7, 10 ** -Math.ceil(Math.log10(most))));
  const { x0, x1, y0, y1 } = inner(FRAME);
  const px = log(lo, hi, x0, x1);
  const py = (share: number): number => (share <= floor ? y1 : log(floor, 1, y1, y0)(share));

  const xTicks = decades(lo, hi).map((v) => ({ at: px(v), label: formatMs(v / 1000) }));
  const yTicks = decades(floor, 1).map((s) => ({ at: py(s), label: shareLabel(s) }));
  const parts = [...minorGrid(FRAME, lo, hi, px), ...axes(FRAME, xTicks, yTicks, 'writer stall per fault (log scale)', 'faults that waited longer (log scale)')];
  // The p50 and p99 lines.
  for (const [share, name] of [[0.5, 'p50'], [0.01, 'p99']] as const) {
    parts.push(`<line class="ref" x1="${x0}" y1="${f(py(share))}" x2="${x1}" y2="${f(py(share))}"/>`);
    parts.push(`<text class="ref-label" x="${x1 + 4}" y="${f(py(share) + 4)}">${name}</text>`);
  }

  // Step 2: a curve per run that had faults, earlier runs wider, so that equal curves all show.
  const drawn = runs.map((run, i) => ({ run, i })).filter(({ run: { stalls } }) => (stalls.kind === 'samples' ? stalls.micros.length : Math.min(stalls.count, stalls.points.length)) > 0);
  const widths = strokeWidths(drawn.length);
  drawn.forEach(({ run: { stalls }, i }, j) => {
    const stroke = `fill="none" stroke="${colors[i] as string}" stroke-width="${f(widths[j] as number)}" stroke-linejoin="round"`;
    if (stalls.kind === 'samples') {
      parts.push(`<path class="curve" data-run="${i}" d="${samplePath(survival(stalls), lo, px, py)}" ${stroke}/>`);
      return;
    }
    const points = percentileSteps(stalls).map((s) => [px(s.micros), py(s.share)] as const);
    parts.push(`<path class="curve" data-run="${i}" d="M${points.map(([x, y]) => `${f(x)},${f(y)}`).join(' L')}" ${stroke} stroke-dasharray="6 3"/>`);
    for (const [x, y] of points) parts.push(`<circle cx="${f(x)}" cy="${f(y)}" r="3.5" fill="${colors[i] as string}"/>`);
  });
  return svg(FRAME, { id: 'stall-distribution', 'data-plot': 'stall-distribution' }, 'Writer stall distribution per run', parts);
}

/** Every fault's stall as a survival curve: for each distinct stall, the share that waited longer. */
function survival(stalls: Extract<StallDistribution, { kind: 'samples' }>): Step[] {
  const sorted = Float64Array.from(stalls.micros).sort();
  const n = sorted.length;
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    if (i + 1 < n && sorted[i + 1] === sorted[i]) continue;
    steps.push({ micros: sorted[i] as number, share: (n - 1 - i) / n });
  }
  return steps;
}

/** A step path of a survival curve from 100% at the axis's left end: across to each stall, then down to the share past it. */
function samplePath(steps: readonly Step[], lo: number, px: (v: number) => number, py: (s: number) => number): string {
  // Step 1: the share past the left end: that of the last stall at or under it, or all.
  let start = 1;
  let i = 0;
  while (i < steps.length && (steps[i] as Step).micros <= lo) start = (steps[i++] as Step).share;
  // Step 2: the steps to the right, one per pixel column at most (the last share in a column).
  const columns: [number, number][] = [];
  for (; i < steps.length; i++) {
    const step = steps[i] as Step;
    const x = px(step.micros);
    const last = columns[columns.length - 1];
    if (last !== undefined && x - last[0] < 0.5) last[1] = py(step.share);
    else columns.push([x, py(step.share)]);
  }
  // From 100% at the left end: the faults that waited no longer than it (zero included) drop the curve there.
  return `M${f(px(lo))},${f(py(1))} V${f(py(start))}` + columns.map(([x, y]) => ` H${f(x)} V${f(y)}`).join('');
}

/** Percentiles as points of a survival curve; the largest stall (100) ends at the bottom. */
function percentileSteps(stalls: Extract<StallDistribution, { kind: 'percentiles' }>): Step[] {
  return [...stalls.points]
    .sort((a, b) => a.percentile - b.percentile)
    .map((p) => ({ micros: p.micros, share: Math.max(0, 1 - p.percentile / 100) }));
}

/** A share as a percentage with one significant digit: `100%`, `1%`, `0.01%`. */
function shareLabel(share: number): string {
  return `${Number((share * 100).toPrecision(1))}%`;
}

/** The stall plot's legend entry for a run: its p50, p99 and max. */
export function stallLegend(run: CompareRun): string {
  const { stall, faults } = run.stats;
  if (faults === 0) return 'no faults';
  const by = run.stalls.kind === 'percentiles' ? ' (percentiles only)' : '';
  return `${faults} faults: p50 ${formatMs(stall.p50)}, p99 ${formatMs(stall.p99)}, max ${formatMs(stall.max)}${by}`;
}
