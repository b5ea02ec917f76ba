// The comparison report of `bgsnap compare`: its input, a collector of it from snapshot events,
// the HTML page with its plots, and the terminal table.
export type { CompareReportOptions, CompareRun, ProgressSample, StallDistribution, StallPercentile } from './types';
export { RunRecorder, stallPercentiles } from './RunRecorder';
export { compareHtml } from './compareHtml';
export { COMPARE_COLUMNS, compareRows, compareTable } from './compareTable';
