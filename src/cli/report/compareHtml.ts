import { formatBytes, formatDuration, formatMs } from '../../sim/format';
import { compareRows } from './compareTable';
import { poolLegend, poolPlot, timeAxisEnd } from './poolPlot';
import { SAVE_LAYERS, savedPlot } from './savedPlot';
import { stallLegend, stallPlot } from './stallPlot';
import { esc, runColors, runName } from './svg';
import type { CompareReportOptions, CompareRun } from './types';
import { htmlTable } from '../../sim/html';

/**
 * A self-contained HTML page comparing snapshot runs (strategies and pool
 * sizes on one workload and storage), with inline SVG plots:
 * - `#stall-distribution`: the writer stall distribution of each run;
 * - `#pool-memory`: copy-pool memory in use over time;
 * - `#pages-saved`: per run, pages saved over time by the bulk pass, faults and copies;
 * and a table of every run. Each plot's `<svg>` has a `data-plot` attribute
 * (`stall-distribution`, `pool-memory`, `pages-saved`), and each curve, area
 * and small plot a `data-run` index into `runs`. No scripts, no external
 * resources.
 */
export function compareHtml(runs: readonly CompareRun[], options: CompareReportOptions = {}): string {
  const title = options.title ?? 'bgsnap compare: writer stall, copy-pool use and pages saved per run';
  const colors = runColors(runs);
  const names = runs.map(runName);
  const end = timeAxisEnd(runs);
  const legend = (text: (run: CompareRun) => string): string =>
    `<ul class="legend">\n${runs
      .map((run, i) => `<li><span class="swatch" style="background:${colors[i] as string}"></span><b>${esc(names[i] as string)}</b>: ${esc(text(run))}</li>`)
      .join('\n')}\n</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 64em; color: #222; padding: 0 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
svg { background: #fff; border: 1px solid #ddd; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg text.title { font-size: 12px; fill: #222; }
svg .grid { stroke: #e6e6e6; } svg .minor { stroke: #f3f3f3; } svg .axis { stroke: #888; }
svg .ref { stroke: #999; stroke-dasharray: 4 3; } svg text.ref-label { fill: #666; }
.note { color: #555; max-width: 52em; }
.legend { list-style: none; padding: 0; margin: 0.6em 0; }
.legend li { margin: 0.15em 0; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.45em; vertical-align: -0.1em; border-radius: 2px; }
.small-multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(374px, 1fr)); gap: 1em; }
figure { margin: 0; } figcaption { font-size: 12.5px; color: #444; margin-top: 0.3em; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { padding: 3px 9px; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
${options.subtitle !== undefined ? `<p class="note">${esc(options.subtitle)}</p>` : ''}
${verdict(runs, names)}
<section id="stalls">
<h2>Writer stall per fault</h2>
<p class="note">For each run, the share of faults whose writer waited longer than the time on the x axis (from the fault to
its page's unprotect). Lower and further left is better; a curve crosses the dashed lines at its p50 and p99.
Each curve starts at 100% on the left edge and drops there by the share of stalls at or under it, zero included.</p>
${stallPlot(runs, colors)}
${legend(stallLegend)}
</section>
<section id="pool">
<h2>Copy pool in use over time</h2>
<p class="note">Pool pages holding copies not yet written, at each progress event. The whole pool is allocated before t0,
used or not: the allocated size is what a pool costs, the peak what this workload needed of it.</p>
${poolPlot(runs, colors)}
${legend(poolLegend)}
</section>
<section id="pages-saved">
<h2>Pages saved over time</h2>
<p class="note">Pages saved since t0, stacked by how they reached storage, on one time axis for every run.</p>
<ul class="legend">
${SAVE_LAYERS.map((l) => `<li><span class="swatch" style="background:${l.color}"></span>${esc(l.name)}</li>`).join('\n')}
</ul>
<div class="small-multiples">
${runs
  .map((run, i) => {
    const { saved, totalPages, durationMs } = run.stats;
    const caption = `${names[i] as string}: bulk ${saved.bulk}, fault ${saved.fault}, copy ${saved.copy} of ${totalPages} pages in ${formatDuration(durationMs)}`;
    return `<figure>\n${savedPlot(run, i, end, names[i] as string)}\n<figcaption>${esc(caption)}</figcaption>\n</figure>`;
  })
  .join('\n')}
</div>
</section>
<section id="runs">
<h2>All runs</h2>
${(options.repeat ?? 1) > 1 ? `<p class="note">${esc(`Each configuration ran ${options.repeat ?? 1} times: stalls, duration, throughput and pool peak are the median, with the lowest and highest in brackets where they differ; faults and pages saved are those of the run plotted above.`)}</p>` : ''}
${htmlTable(compareRows(runs, options.spreads))}
</section>
</body>
</html>
`;
}

/** One paragraph: what the best pool buys over `queue`, when both were run. */
function verdict(runs: readonly CompareRun[], names: readonly string[]): string {
  const queue = runs.findIndex((r) => r.stats.strategy === 'queue');
  const pooled = runs.map((run, i) => ({ run, i })).filter(({ run }) => run.stats.pool.pages > 0);
  if (queue < 0 || pooled.length === 0) return '';
  // The pooled run with the lowest p99, and among those the smallest pool.
  const best = [...pooled].sort(
    (a, b) => a.run.stats.stall.p99 - b.run.stats.stall.p99 || a.run.stats.pool.pages * a.run.stats.pageSize - b.run.stats.pool.pages * b.run.stats.pageSize,
  )[0] as (typeof pooled)[number];
  const q = (runs[queue] as CompareRun).stats;
  const c = best.run.stats;
  return (
    `<p class="verdict">${esc(names[queue] as string)}: stall p99 ${esc(formatMs(q.stall.p99))} with no pool, done in ${esc(formatDuration(q.durationMs))}. ` +
    `${esc(names[best.i] as string)}: p99 ${esc(formatMs(c.stall.p99))} for ${esc(formatBytes(c.pool.pages * c.pageSize))} of pool ` +
    `(peak in use ${esc(formatBytes(c.pool.peakBytes))}), done in ${esc(formatDuration(c.durationMs))}.</p>`
  );
}
