import type { VerifyReport } from '../../format/verify';
import type { StallSummary } from '../../metrics/StallRecorder';
import type { SnapshotKind } from '../../storage/Sink';
import { formatBandwidth, formatBytes, formatDuration, formatMs, formatTable } from '../../sim/format';
import { problemJson, type ProblemJson } from '../output';
import { capacityOf, runBytesOf, type GuestRun } from './guest';
import { FIGURE_KEYS, FIGURE_TEXT, figuresSpread, formatSpread, type FiguresSpread, type RunFigures } from './spread';
import type { VcpuReport } from './vcpus';

/**
 * The writers' stalls across vCPUs, from each writer's own account
 * (`MemoryWriter.faults.stall`): counts add up and `max` is the largest, but
 * percentiles of separate histograms do not merge, so `p50` and `p99` are the
 * highest of the vCPUs' own, an upper bound of the merged ones.
 */
export interface MergedStall extends StallSummary {
  readonly merge: 'highest-of-vcpus';
}

/**
 * What `bgsnap run --json` prints. Sizes in bytes, times in milliseconds.
 * With `--repeat N`, every field but `repeat`, `spread` and `runs` is the
 * last run's: the one whose file is left at `out`.
 */
export interface RunReportJson {
  readonly out: string;
  readonly ramBytes: number;
  readonly pageSize: number;
  /** Pages in the image; `bytes` = `pages` × `pageSize`. */
  readonly pages: number;
  readonly bytes: number;
  readonly vcpus: number;
  readonly workload: string;
  /** Writes per second per vCPU while not blocked, or `max`: as many as each can. */
  readonly writeRate: number | 'max';
  readonly seed: number;
  readonly strategy: string;
  /** The copy pool allocated before t0 (0 under `queue`). */
  readonly poolBytes: number;
  readonly storage: string;
  /** Snapshot writes in flight (the file sink's capacity). */
  readonly capacity: number;
  /** Most bytes in one bulk write. */
  readonly runBytes: number;
  /** Most bytes in one fault write. */
  readonly faultRunBytes: number;
  /** From t0 to the file's close. */
  readonly durationMs: number;
  /** `bytes` per second of `durationMs`. */
  readonly throughputBytesPerSecond: number;
  /** How long the vCPUs were paused for t0. */
  readonly t0PauseMs: number;
  /** Completed writes per vCPU at t0, in writer-id order: one entry per vCPU. */
  readonly cut: readonly number[];
  /** Pages saved by how they reached storage; they add up to `pages`. */
  readonly saved: { readonly bulk: number; readonly fault: number; readonly copy: number };
  readonly faults: {
    /** Faults the vCPUs took: one per write that found its page protected. */
    readonly count: number;
    /** Of those, pages a vCPU copied into the pool itself (under `copy`). */
    readonly selfCopied: number;
  };
  readonly writerStall: MergedStall;
  readonly poolPeak: { readonly pages: number; readonly bytes: number };
  /** Writes handed to the sink. */
  readonly sinkWrites: number;
  /** The snapshot file's size, from `fs.stat`. */
  readonly fileBytes: number;
  readonly perVcpu: readonly {
    readonly id: number;
    readonly writes: number;
    readonly writesAfterT0: number;
    readonly faults: number;
    readonly selfCopied: number;
    readonly stall: StallSummary;
    readonly longestPauseMs: number;
  }[];
  /** With `--from`: how the guest was started from a snapshot with a live restore. */
  readonly resume?: {
    readonly from: string;
    /** Subscribe → `started` (the vCPUs may run). */
    readonly openMs: number;
    /** Subscribe → the first write a vCPU completed. */
    readonly firstWriteMs: number | null;
    /** `started` → every page loaded. */
    readonly loadMs: number;
    /** `started` → the record table known (a scan of record headers for version 1 files). */
    readonly tableMs: number;
    /** Faults during the load: one per vCPU write and page not loaded it touched. */
    readonly faults: number;
    /** Wait per faulted page, first fault → loaded. */
    readonly faultWait: StallSummary;
    readonly loaded: { readonly fault: number; readonly background: number };
  };
  readonly verify: {
    readonly ok: boolean;
    readonly records: number;
    readonly pages: number;
    readonly zeroPages: number;
    readonly problems: readonly ProblemJson[];
  };
  /**
   * With `--snapshots N` (N > 1): every snapshot of the chain, base first,
   * each checked as a link of the chain. The fields above are the full
   * snapshot's (link 0).
   */
  readonly chain?: readonly ChainLinkJson[];
  /** Runs made (`--repeat`). */
  readonly repeat: number;
  /** Each key figure's median, min and max over the runs. */
  readonly spread: FiguresSpread;
  /** Each run's key figures, in run order. */
  readonly runs: readonly RunFigures[];
}

/** One snapshot of a chain in `bgsnap run --snapshots N`'s report. */
export interface ChainLinkJson {
  readonly file: string;
  readonly kind: SnapshotKind;
  readonly id: string;
  /** Absent for the full snapshot. */
  readonly parent?: string;
  /** Pages saved: every page for the full one, the pages written since the one before for the others. */
  readonly pages: number;
  /** `pages` × page size. */
  readonly bytes: number;
  readonly fileBytes: number;
  readonly durationMs: number;
  readonly t0PauseMs: number;
  /** Faults as the pipeline counted them, and the writers' stall from fault to unprotect. */
  readonly faults: number;
  readonly stall: StallSummary;
  /** Whether the file checked, on its own and as a link of the chain. */
  readonly ok: boolean;
}

/** The chain's rows, from the run's snapshots, their file sizes and whether each checked. */
export function chainLinks(run: GuestRun, fileBytes: readonly number[], ok: readonly boolean[]): ChainLinkJson[] {
  return run.snapshots.map(({ out, stats }, i) => ({
    file: out,
    kind: stats.kind,
    id: stats.identity.id,
    ...(stats.identity.parent !== undefined ? { parent: stats.identity.parent } : {}),
    pages: stats.totalPages,
    bytes: stats.totalPages * stats.pageSize,
    fileBytes: fileBytes[i] ?? 0,
    durationMs: stats.durationMs,
    t0PauseMs: stats.t0PauseMs,
    faults: stats.faults,
    stall: stats.stall,
    ok: ok[i] ?? false,
  }));
}

/** The chain as a table for the terminal, one row a snapshot. */
export function chainText(links: readonly ChainLinkJson[]): string {
  const rows = [
    ['#', 'kind', 'pages', 'file', 'duration', 't0 pause', 'faults', 'stall p99', 'checked', 'name'],
    ...links.map((l, i) => [
      String(i),
      l.kind,
      String(l.pages),
      formatBytes(l.fileBytes),
      formatDuration(l.durationMs),
      formatMs(l.t0PauseMs),
      String(l.faults),
      l.stall.count === 0 ? '-' : formatMs(l.stall.p99),
      l.ok ? 'ok' : 'FAILED',
      l.file,
    ]),
  ];
  return formatTable(rows, 'text');
}

/** A run's key figures, from its report: the stall percentiles are the merged ones (`writerStall`). */
export function runFigures(r: Pick<RunReportJson, 'durationMs' | 'throughputBytesPerSecond' | 'writerStall' | 'poolPeak'>): RunFigures {
  return {
    durationMs: r.durationMs,
    throughputBytesPerSecond: r.throughputBytesPerSecond,
    stallP50Ms: r.writerStall.p50,
    stallP99Ms: r.writerStall.p99,
    stallMaxMs: r.writerStall.max,
    poolPeakBytes: r.poolPeak.bytes,
  };
}

/** The last run's report with the spread of all of them (`earlier`: the figures of the runs before it). */
export function withRepeats(last: RunReportJson, earlier: readonly RunFigures[]): RunReportJson {
  const runs = [...earlier, runFigures(last)];
  return { ...last, repeat: runs.length, spread: figuresSpread(runs), runs };
}

/** The vCPUs' stalls merged: counts summed, the highest percentiles, the largest stall. */
export function mergeStalls(vcpus: readonly VcpuReport[]): MergedStall {
  let count = 0;
  let p50 = 0;
  let p99 = 0;
  let max = 0;
  for (const { faults } of vcpus) {
    count += faults.stall.count;
    p50 = Math.max(p50, faults.stall.p50);
    p99 = Math.max(p99, faults.stall.p99);
    max = Math.max(max, faults.stall.max);
  }
  return { count, p50, p99, max, merge: 'highest-of-vcpus' };
}

/** The report of a run, its file's size and its verification: `repeat` 1, its spread its own figures. */
export function runReport(run: GuestRun, fileBytes: number, verified: VerifyReport): RunReportJson {
  const { config, stats } = run;
  const bytes = stats.totalPages * stats.pageSize;
  const perVcpu = run.vcpus.map((v) => ({
    id: v.id,
    writes: v.writes,
    writesAfterT0: v.writes - (stats.cut[v.id] ?? 0),
    faults: v.faults.count,
    selfCopied: v.faults.selfCopied,
    stall: v.faults.stall,
    longestPauseMs: v.faults.longestPauseMs,
  }));
  const report: Omit<RunReportJson, 'repeat' | 'spread' | 'runs'> = {
    out: config.out,
    ramBytes: config.ramBytes,
    pageSize: stats.pageSize,
    pages: stats.totalPages,
    bytes,
    vcpus: config.vcpus,
    workload: config.workload,
    writeRate: config.writesPerSecond,
    seed: config.seed,
    strategy: stats.strategy,
    poolBytes: stats.pool.pages * stats.pageSize,
    storage: config.storage,
    capacity: capacityOf(config),
    runBytes: Math.floor(runBytesOf(config) / stats.pageSize) * stats.pageSize,
    faultRunBytes: Math.floor((config.faultRunBytes ?? stats.pageSize) / stats.pageSize) * stats.pageSize,
    durationMs: stats.durationMs,
    throughputBytesPerSecond: stats.durationMs > 0 ? bytes / (stats.durationMs / 1000) : 0,
    t0PauseMs: stats.t0PauseMs,
    cut: stats.cut,
    saved: stats.saved,
    faults: {
      count: perVcpu.reduce((n, v) => n + v.faults, 0),
      selfCopied: perVcpu.reduce((n, v) => n + v.selfCopied, 0),
    },
    writerStall: mergeStalls(run.vcpus),
    poolPeak: { pages: stats.pool.peakPages, bytes: stats.pool.peakBytes },
    sinkWrites: stats.writes,
    fileBytes,
    perVcpu,
    ...(run.resume === undefined
      ? {}
      : {
          resume: {
            from: run.resume.from,
            openMs: run.resume.stats.openMs,
            firstWriteMs: run.resume.firstWriteMs ?? null,
            loadMs: run.resume.stats.durationMs,
            tableMs: run.resume.stats.tableMs,
            faults: run.resume.stats.faults,
            faultWait: run.resume.stats.faultWait,
            loaded: run.resume.stats.loaded,
          },
        }),
    verify: {
      ok: verified.ok,
      records: verified.records,
      pages: verified.pages,
      zeroPages: verified.zeroPages,
      problems: verified.problems.map(problemJson),
    },
  };
  return withRepeats({ ...report, repeat: 1, spread: figuresSpread([runFigures(report)]), runs: [] }, []);
}

/** The report as label/value lines for the terminal. */
export function runReportText(r: RunReportJson): string {
  const rate = r.writeRate === 'max' ? 'full speed' : `${formatCount(r.writeRate)} writes/s`;
  const pool = r.strategy === 'queue' ? '' : ` with a ${formatBytes(r.poolBytes)} pool`;
  const stall = r.writerStall;
  const resume = r.resume;
  const resumeRows =
    resume === undefined
      ? []
      : [
          [
            'resumed',
            `from ${JSON.stringify(resume.from)} with a live restore: vCPUs run ${formatMs(resume.openMs)} after the start, ` +
              `first write after ${resume.firstWriteMs === null ? '- (none)' : formatMs(resume.firstWriteMs)}, loaded in ${formatDuration(resume.loadMs)} ` +
              `(record table ${formatMs(resume.tableMs)})`,
          ],
          [
            '  load faults',
            resume.faults === 0
              ? 'none'
              : `${resume.faults}; wait p50 ${formatMs(resume.faultWait.p50)}, p99 ${formatMs(resume.faultWait.p99)}, max ${formatMs(resume.faultWait.max)}; ` +
                `pages loaded by faults ${resume.loaded.fault}, by the background pass ${resume.loaded.background}`,
          ],
        ];
  const rows = [
    ...resumeRows,
    ['guest', `${formatBytes(r.ramBytes)} (${r.pages} pages of ${formatBytes(r.pageSize)}), ${r.vcpus} vCPU${r.vcpus === 1 ? '' : 's'}, ${r.workload} at ${rate} each; seed ${r.seed}`],
    ['snapshot', `${r.strategy}${pool} to ${JSON.stringify(r.out)} on ${r.storage === 'none' ? 'unthrottled storage' : `${r.storage} storage`}, ${r.capacity} write${r.capacity === 1 ? '' : 's'} in flight${r.faultRunBytes > r.pageSize ? `, fault writes up to ${formatBytes(r.faultRunBytes)}` : ''}`],
    ['duration', formatDuration(r.durationMs)],
    ['throughput', `${formatBandwidth(r.throughputBytesPerSecond)} (${formatBytes(r.bytes)} in ${r.sinkWrites} writes)`],
    ['t0 pause', formatMs(r.t0PauseMs)],
    ['cut', `${r.cut.join(', ')} writes done at t0 (vCPU ${r.cut.map((_, i) => i).join(', ')})`],
    ['faults', `${r.faults.count}${r.strategy === 'queue' ? '' : `, ${r.faults.selfCopied} of them copied by the vCPU itself`}`],
    ['saved', `bulk ${r.saved.bulk}, fault ${r.saved.fault}, copy ${r.saved.copy} pages`],
    [
      'writer stall',
      stall.count === 0
        ? 'no faults'
        : `p50 ${formatMs(stall.p50)}, p99 ${formatMs(stall.p99)}, max ${formatMs(stall.max)} ` +
          `(each vCPU's own; p50 and p99 are the highest of the vCPUs')`,
    ],
    ...r.perVcpu.map((v) => [
      `  vCPU ${v.id}`,
      `${v.writes} writes (${v.writesAfterT0} after t0), ${v.faults} faults: ` +
        `p50 ${formatMs(v.stall.p50)}, p99 ${formatMs(v.stall.p99)}, max ${formatMs(v.stall.max)}`,
    ]),
    ['pool peak', r.strategy === 'queue' ? '- (no pool)' : `${formatBytes(r.poolPeak.bytes)} (${r.poolPeak.pages} of ${r.poolBytes / r.pageSize} pages)`],
    ['file', `${r.fileBytes} bytes (${formatBytes(r.fileBytes)})`],
  ];
  if (r.repeat > 1) {
    rows.push([`${r.repeat} runs`, 'median (min–max); the lines above are the last run']);
    for (const key of FIGURE_KEYS) {
      if (key === 'poolPeakBytes' && r.strategy === 'queue') continue;
      rows.push([`  ${FIGURE_TEXT[key].name}`, formatSpread(r.spread[key], FIGURE_TEXT[key].format)]);
    }
  }
  return formatTable(rows, 'text');
}

/** A count or rate as people write it: whole numbers as they are, others to three significant digits. */
export function formatCount(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(3)));
}
