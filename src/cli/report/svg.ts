/**
 * Small pieces for inline SVG plots: scales, ticks, axes, escaping, and the
 * runs' names and colours. No scripts, no external resources.
 */

import { formatBytes } from '../../sim/format';
import { esc } from '../../sim/html';
import type { CompareRun } from './types';

export { esc };

/** A plot's size and margins, in SVG units (CSS pixels). */
export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** The plotting area of a frame: x from `x0` to `x1`, y from `y0` (top) to `y1` (bottom). */
export function inner(frame: Frame): { x0: number; x1: number; y0: number; y1: number } {
  return { x0: frame.left, x1: frame.width - frame.right, y0: frame.top, y1: frame.height - frame.bottom };
}

/** Maps [d0, d1] linearly onto [r0, r1]. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Maps [d0, d1] (both above 0) onto [r0, r1] on a log scale; values at or under d0 go to r0. */
export function log(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const l0 = Math.log10(d0);
  const k = (r1 - r0) / (Math.log10(d1) - l0);
  return (v) => (v <= d0 ? r0 : r0 + (Math.log10(v) - l0) * k);
}

/** The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^n) at or above `v` (above 0). */
export function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}

/** Intervals that split a `niceCeil` value into round steps, by its leading digits: 1.5 into 5 steps of 0.3, 8 into 4 of 2. */
const STEPS: Record<string, number> = { '1': 5, '1.5': 5, '2': 4, '2.5': 5, '3': 6, '4': 4, '5': 5, '6': 6, '8': 4 };

/** Evenly spaced values from 0 to `max` (a `niceCeil` value) in round steps: 4 to 6 of them. */
export function linearTicks(max: number): number[] {
  const mantissa = max / 10 ** Math.floor(Math.log10(max));
  const n = STEPS[String(Number(mantissa.toPrecision(2)))] ?? 5;
  return Array.from({ length: n + 1 }, (_, i) => (max * i) / n);
}

/** Lines across a log axis at 2, 3, … 9 times each power of ten from `lo` to `hi`: the minor grid. */
export function minorGrid(frame: Frame, lo: number, hi: number, px: (v: number) => number): string[] {
  const { y0, y1 } = inner(frame);
  const parts: string[] = [];
  for (const decade of decades(lo, hi / 10)) {
    for (let m = 2; m <= 9; m++) parts.push(`<line class="minor" x1="${f(px(m * decade))}" y1="${y0}" x2="${f(px(m * decade))}" y2="${y1}"/>`);
  }
  return parts;
}

/** Stroke widths for `n` curves drawn in order, widest first, so that a curve drawn over an equal one leaves it showing at its edges. */
export function strokeWidths(n: number): number[] {
  return Array.from({ length: n }, (_, j) => (n === 1 ? 2 : 1.75 + (2.5 * (n - 1 - j)) / (n - 1)));
}

/** The powers of ten from `lo` to `hi` (both powers of ten). */
export function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.round(Math.log10(lo)); e <= Math.round(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/**
 * A byte axis from 0 to `max` (above 0) or just past it, in 2 to 6 equal
 * steps of a power of two bytes, so that ticks read round binary sizes:
 * `256 KiB`, `512 KiB`, `768 KiB`, `1 MiB`; `4 MiB`, `8 MiB`, … A power of two,
 * or a small multiple of one, is the axis's end itself.
 */
export function byteAxis(max: number): { top: number; ticks: number[] } {
  let step = 1;
  while (Math.ceil(max / step) > 6) step *= 2;
  const n = Math.max(1, Math.ceil(max / step));
  const ticks = Array.from({ length: n + 1 }, (_, i) => i * step);
  return { top: n * step, ticks };
}

/** One tick: its value's position along the axis and its label (`''` for a grid line alone). */
export interface Tick {
  readonly at: number;
  readonly label: string;
}

/** Grid lines, tick labels, the axis lines and the axis titles of a frame. */
export function axes(frame: Frame, xTicks: readonly Tick[], yTicks: readonly Tick[], xTitle: string, yTitle: string): string[] {
  const { x0, x1, y0, y1 } = inner(frame);
  const parts: string[] = [];
  for (const t of xTicks) {
    parts.push(`<line class="grid" x1="${f(t.at)}" y1="${y0}" x2="${f(t.at)}" y2="${y1}"/>`);
    const anchor = t.at > x1 - 20 ? 'end' : t.at < x0 + 20 ? 'start' : 'middle';
    if (t.label !== '') parts.push(`<text x="${f(t.at)}" y="${y1 + 15}" text-anchor="${anchor}">${esc(t.label)}</text>`);
  }
  for (const t of yTicks) {
    parts.push(`<line class="grid" x1="${x0}" y1="${f(t.at)}" x2="${x1}" y2="${f(t.at)}"/>`);
    parts.push(`<text x="${x0 - 6}" y="${f(t.at + 4)}" text-anchor="end">${esc(t.label)}</text>`);
  }
  parts.push(`<line class="axis" x1="${x0}" y1="${y1}" x2="${x1}" y2="${y1}"/>`);
  parts.push(`<line class="axis" x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}"/>`);
  parts.push(`<text class="title" x="${f((x0 + x1) / 2)}" y="${frame.height - 8}" text-anchor="middle">${esc(xTitle)}</text>`);
  parts.push(`<text class="title" transform="translate(13 ${f((y0 + y1) / 2)}) rotate(-90)" text-anchor="middle">${esc(yTitle)}</text>`);
  return parts;
}

/** An `<svg>` element: `id` and `data-plot` name it, `label` is its accessible name. */
export function svg(frame: Frame, attributes: Readonly<Record<string, string>>, label: string, parts: readonly string[]): string {
  const attrs = Object.entries(attributes)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg"${attrs} width="${frame.width}" height="${frame.height}" ` +
    `viewBox="0 0 ${frame.width} ${frame.height}" role="img" aria-label="${esc(label)}">\n${parts.join('\n')}\n</svg>`
  );
}

/** A run's name: its label, or `queue`, or `copy, pool 16 MiB`. */
export function runName(run: CompareRun): string {
  if (run.label !== undefined) return run.label;
  const { strategy, pool, pageSize } = run.stats;
  return strategy === 'queue' && pool.pages === 0 ? strategy : `${strategy}, pool ${formatBytes(pool.pages * pageSize)}`;
}

/** Colours that stay apart for colour-blind readers (Okabe and Ito), then greys. */
const PALETTE = ['#0072B2', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#777777', '#B0B0B0'];
/** The `queue` runs' colour: the baseline every pool is measured against. */
const QUEUE_COLOR = '#D55E00';

/** A colour per run, in run order: the first `queue` run vermillion, the rest from the palette. */
export function runColors(runs: readonly CompareRun[]): string[] {
  let next = 0;
  let queueTaken = false;
  return runs.map((run) => {
    if (run.stats.strategy === 'queue' && !queueTaken) {
      queueTaken = true;
      return QUEUE_COLOR;
    }
    return PALETTE[next++ % PALETTE.length] as string;
  });
}

/** A coordinate with one decimal. */
export function f(n: number): string {
  return n.toFixed(1);
}


