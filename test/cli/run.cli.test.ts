/**
 * `bgsnap run` and `bgsnap compare` as a user runs them: the compiled CLI,
 * spawned, with vCPU threads writing to a real guest memory while it is
 * snapshotted to files in a temporary folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_COLUMNS } from '../../src/cli/report';
import type { RunReportJson } from '../../src/cli/run/report';
import { tempDir } from '../storage/support';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const dir = tempDir('cli-run');
const path = (name: string) => join(dir.path, name);

/** Runs the compiled CLI in the temporary folder; returns its exit code and output. */
function bgsnap(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir.path, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small, quick guest: 16 MiB on the nvme profile. */
const SMALL = ['--ram', '16MiB', '--storage', 'nvme'];

beforeAll(() => {
  // The package's own build (test/support/buildOnce.ts): the bin and the vCPU script are compiled JS.
  for (const file of [cli, join(root, 'dist', 'cli', 'run', 'vcpu.js')]) {
    if (!existsSync(file)) throw new Error(`no compiled ${file} (test/support/buildOnce.ts builds it)`);
  }
}, 60_000);
afterAll(() => dir.remove());

describe('bgsnap run', () => {
  let report: RunReportJson;
  let stderr = '';

  beforeAll(() => {
    const r = bgsnap('run', ...SMALL, '--out', 'small.bgsnap', '--json');
    if (r.code !== 0) throw new Error(`bgsnap run failed (${r.code}):\n${r.stderr}`);
    report = JSON.parse(r.stdout) as RunReportJson;
    stderr = r.stderr;
  }, 60_000);

  it('prints a --json report whose fields agree with each other and with the file', () => {
    expect(report).toMatchObject({ out: 'small.bgsnap', ramBytes: 16 << 20, pageSize: 4096, vcpus: 2, workload: 'random', strategy: 'copy', storage: 'nvme', capacity: 16 });
    // Sizes: the image is every page; the file is what is on disk.
    expect(report.pages).toBe(4096);
    expect(report.bytes).toBe(report.pages * report.pageSize);
    expect(report.fileBytes).toBe(statSync(path('small.bgsnap')).size);
    expect(report.fileBytes).toBeGreaterThan(report.bytes);
    expect(report.saved.bulk + report.saved.fault + report.saved.copy).toBe(report.pages);
    expect(report.throughputBytesPerSecond).toBeCloseTo(report.bytes / (report.durationMs / 1000), 0);
    expect(report.durationMs).toBeGreaterThan(0);
    // The safe point waits for the running vCPUs and protects every page: never free.
    expect(report.t0PauseMs).toBeGreaterThan(0);
    // The pool: 4 MiB by default, its peak in whole pages.
    expect(report.poolBytes).toBe(4 << 20);
    expect(report.poolPeak.bytes).toBe(report.poolPeak.pages * report.pageSize);
    expect(report.poolPeak.bytes).toBeLessThanOrEqual(report.poolBytes);
    // One cut entry per vCPU; each vCPU wrote before t0 (the warm-up) and after it.
    expect(report.cut).toHaveLength(report.vcpus);
    expect(report.perVcpu.map((v) => v.id)).toEqual([0, 1]);
    report.perVcpu.forEach((v, i) => {
      expect(v.writesAfterT0).toBe(v.writes - (report.cut[i] as number));
      expect(report.cut[i]).toBeGreaterThan(0);
      expect(v.writesAfterT0).toBeGreaterThan(0);
    });
    // Faults and stalls: the vCPUs' own, added up; the highest percentiles, the largest stall.
    const sum = (f: (v: RunReportJson['perVcpu'][number]) => number) => report.perVcpu.reduce((n, v) => n + f(v), 0);
    expect(report.faults.count).toBe(sum((v) => v.faults));
    expect(report.faults.selfCopied).toBe(sum((v) => v.selfCopied));
    expect(report.faults.selfCopied).toBeLessThanOrEqual(report.faults.count);
    expect(report.writerStall).toEqual({
      count: report.faults.count,
      p50: Math.max(...report.perVcpu.map((v) => v.stall.p50)),
      p99: Math.max(...report.perVcpu.map((v) => v.stall.p99)),
      max: Math.max(...report.perVcpu.map((v) => v.stall.max)),
      merge: 'highest-of-vcpus',
    });
    expect(report.verify).toEqual({ ok: true, records: expect.any(Number) as number, pages: report.pages, zeroPages: 0, problems: [] });
  });

  it('shows progress as plain lines on standard error when it is not a terminal', () => {
    const lines = stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toMatch(/^snapshot \(copy\) \d+%: \d+\/4096 pages saved \(bulk \d+, fault \d+, copy \d+\); .* written; pool \d+ pages in use; /);
    expect(lines.at(-1)).toMatch(/^snapshot \(copy\) 100%: 4096\/4096 pages saved/);
    expect(stderr).not.toMatch(/\u001b\[/);
  });

  it('writes a file that verify accepts and whose header holds the same cut', () => {
    const verified = bgsnap('verify', 'small.bgsnap');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^ok: "small.bgsnap" is a complete snapshot: 4096 pages of 4 KiB/);
    const inspected = JSON.parse(bgsnap('inspect', 'small.bgsnap', '--json').stdout) as { header: { cut: number[]; strategy: string } };
    expect(inspected.header.cut).toEqual(report.cut);
    expect(inspected.header.strategy).toBe('copy');
  });

  it('prints a text report, then the verification', () => {
    const r = bgsnap('run', ...SMALL, '--strategy', 'queue', '--vcpus', '3', '--workload', 'hotset', '--write-rate', '4999.87654', '--out', 'text.bgsnap');
    expect(r.code).toBe(0);
    // Figures rounded to three significant digits: no unrounded float, and one unit family (MiB, MiB/s).
    expect(r.stdout).not.toMatch(/\d\.\d{3,}/);
    expect(r.stdout).not.toMatch(/\b(MB|GB|kB)\b/);
    const labels = r.stdout
      .trimEnd()
      .split('\n')
      .map((line) => /^ *(\S+(?: \S+)*?) {2,}/.exec(line)?.[1] ?? line.slice(0, 3));
    expect(labels).toEqual(['guest', 'snapshot', 'duration', 'throughput', 't0 pause', 'cut', 'faults', 'saved', 'writer stall', 'vCPU 0', 'vCPU 1', 'vCPU 2', 'pool peak', 'file', 'ok:']);
    expect(r.stdout).toMatch(/^guest +16 MiB \(4096 pages of 4 KiB\), 3 vCPUs, hotset at 5000 writes\/s each; seed 1$/m);
    expect(r.stdout).toMatch(/^throughput +[\d.]+ (MiB|GiB)\/s \(16 MiB in \d+ writes\)$/m);
    expect(r.stdout).toMatch(/^snapshot +queue to "text.bgsnap" on nvme storage, 16 writes in flight$/m);
    expect(r.stdout).toMatch(/^pool peak +- \(no pool\)$/m);
    expect(r.stdout).toMatch(new RegExp(`^file +${statSync(path('text.bgsnap')).size} bytes `, 'm'));
    expect(r.stdout).toMatch(/^ok: "text.bgsnap" is a complete snapshot/m);
  });

  it('runs vCPUs at full speed on unthrottled storage, one cut entry each', () => {
    const r = bgsnap('run', '--ram', '8MiB', '--storage', 'none', '--vcpus', '3', '--workload', 'sequential', '--write-rate', 'max', '--out', 'max.bgsnap', '--json');
    expect(r.code).toBe(0);
    const max = JSON.parse(r.stdout) as RunReportJson;
    expect(max).toMatchObject({ writeRate: 'max', storage: 'none', vcpus: 3, pages: 2048 });
    expect(max.cut).toHaveLength(3);
    expect(max.saved.bulk + max.saved.fault + max.saved.copy).toBe(2048);
    expect(max.verify.ok).toBe(true);
  });

  it('runs --repeat times and reports the median and range of the key figures, the last run in full', () => {
    const r = bgsnap('run', ...SMALL, '--out', 'repeat.bgsnap', '--repeat', '3', '--run-bytes', '64KiB', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as RunReportJson;
    expect(report.repeat).toBe(3);
    expect(report.runs).toHaveLength(3);
    // The top-level figures are the last run's, whose file is left at --out.
    expect(report.runs[2]).toEqual({
      durationMs: report.durationMs,
      throughputBytesPerSecond: report.throughputBytesPerSecond,
      stallP50Ms: report.writerStall.p50,
      stallP99Ms: report.writerStall.p99,
      stallMaxMs: report.writerStall.max,
      poolPeakBytes: report.poolPeak.bytes,
    });
    expect(report.fileBytes).toBe(statSync(path('repeat.bgsnap')).size);
    for (const key of ['durationMs', 'throughputBytesPerSecond', 'stallP50Ms', 'stallP99Ms', 'stallMaxMs', 'poolPeakBytes'] as const) {
      const values = report.runs.map((run) => run[key]).sort((a, b) => a - b);
      expect(report.spread[key]).toEqual({ median: values[1], min: values[0], max: values[2] });
    }
    // --run-bytes: bulk records of at most 64 KiB, so at least 256 of them for 16 MiB.
    expect(report.runBytes).toBe(64 << 10);
    expect(report.verify.records).toBeGreaterThanOrEqual(256);
    // Each run's progress, numbered.
    expect(r.stderr).toMatch(/^\[3\/3\] snapshot \(copy\) 100%/m);

    const text = bgsnap('run', ...SMALL, '--out', 'repeat.bgsnap', '--force', '--repeat', '2');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^2 runs {8}median \(min–max\); the lines above are the last run$/m);
    expect(text.stdout).toMatch(/^ {2}duration {4}[\d.]+ (µs|ms|s)( \([\d.]+ (µs|ms|s)–[\d.]+ (µs|ms|s)\))?$/m);
    expect(text.stdout).toMatch(/^ {2}stall p99 /m);
    expect(text.stdout).toMatch(/^throughput {4}[\d.]+ MiB\/s \(16 MiB in \d+ writes\)$/m);
    expect(text.stdout).not.toMatch(/MB\b/);
  }, 60_000);

  it('refuses to overwrite a file without --force, and replaces it with', () => {
    const before = readFileSync(path('small.bgsnap'));
    const refused = bgsnap('run', ...SMALL, '--out', 'small.bgsnap');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe('error: Refusing to overwrite "small.bgsnap": it exists; pass --force to replace it\n');
    expect(readFileSync(path('small.bgsnap')).equals(before)).toBe(true);

    const forced = bgsnap('run', ...SMALL, '--out', 'small.bgsnap', '--force', '--json');
    expect(forced.code).toBe(0);
    const replaced = JSON.parse(forced.stdout) as RunReportJson;
    expect(replaced.fileBytes).toBe(statSync(path('small.bgsnap')).size);
    expect(readFileSync(path('small.bgsnap')).equals(before)).toBe(false);
    expect(bgsnap('verify', 'small.bgsnap').code).toBe(0);
  });

  it.each([
    // One range, one wording, below and above it.
    [['--vcpus', '0'], /^error: option '--vcpus <n>' argument '0' is invalid\. expected a decimal integer from 1 to 64, got "0"$/],
    [['--vcpus', '1000'], /^error: option '--vcpus <n>' argument '1000' is invalid\. expected a decimal integer from 1 to 64, got "1000"$/],
    [['--repeat', '0'], /^error: option '--repeat <n>' argument '0' is invalid\. expected a decimal integer from 1 to 100, got "0"$/],
    [['--run-bytes', '1KiB'], /^error: option '--run-bytes <size>': expected at least one page \(4096\), got 1024$/],
    [['--strategy', 'nope'], /^error: option '--strategy <name>' argument 'nope' is invalid\. expected one of queue, copy, got "nope"$/],
    [['--ram', '1x'], /^error: option '--ram <size>' argument '1x' is invalid\. expected a size such as 4096, 16MiB or 64GiB, got "1x"$/],
    [['--ram', '1000'], /^error: option '--ram <size>': expected a positive multiple of the page size \(4096\), got 1000$/],
    [['--ram', '5GiB'], /^error: option '--ram <size>': expected at most 4GiB, got 5368709120$/],
    [['--page-size', '3000'], /^error: option '--page-size <size>': expected a power of two from 512 to 2097152 \(2 MiB\), got 3000$/],
    [['--pool', '1000'], /^error: option '--pool <size>': expected a multiple of the page size \(4096\), got 1000$/],
    [['--write-rate', 'fast'], /^error: option '--write-rate <n>' argument 'fast' is invalid\. expected writes per second above 0, or max, got "fast"$/],
    [['--storage', 'tape'], /^error: option '--storage <name>' argument 'tape' is invalid\. expected one of hdd, ssd, nvme, none, got "tape"$/],
    [['--capacity', '0'], /^error: option '--capacity <n>' argument '0' is invalid\. expected a decimal integer from 1 up, got "0"$/],
    [['--out', '.'], /^error: option '--out <file>': "\." is a folder, expected a file name$/],
    [['--out', 'nodir/x.bgsnap'], /^error: option '--out <file>': the folder "nodir" of "nodir\/x\.bgsnap" does not exist$/],
    [['--page-size', '2MiB', '--pool', '1MiB'], /^error: option '--pool <size>': expected a multiple of the page size \(2097152\), got 1048576$/],
  ])('exits 2 on a usage error: %j', (args, reason) => {
    // The last --out wins: the one of the case, when it has one.
    const r = bgsnap('run', '--out', 'never.bgsnap', ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const [first, ...rest] = r.stderr.trimEnd().split('\n');
    expect(first).toMatch(reason);
    expect(rest).toEqual(['Usage: bgsnap run [options]', "Run 'bgsnap run --help' for the options."]);
    expect(existsSync(path('never.bgsnap'))).toBe(false);
  });

  it('takes the default 4 MiB pool in whole pages of 2 MiB, and checks no pool under queue', () => {
    const copy = bgsnap('run', '--page-size', '2MiB', ...SMALL, '--out', 'huge-pages.bgsnap', '--json');
    expect(copy.stderr).not.toMatch(/--pool/);
    expect(copy.code).toBe(0);
    expect(JSON.parse(copy.stdout)).toMatchObject({ pageSize: 2 << 20, pages: 8, poolBytes: 4 << 20, strategy: 'copy', verify: { ok: true } });
    // A pool that is not whole pages is not used under queue, so not checked.
    const queue = bgsnap('run', '--page-size', '2MiB', ...SMALL, '--strategy', 'queue', '--pool', '1MiB', '--out', 'huge-queue.bgsnap', '--json');
    expect(queue.code).toBe(0);
    expect(JSON.parse(queue.stdout)).toMatchObject({ pageSize: 2 << 20, strategy: 'queue', poolBytes: 0 });
  }, 60_000);

  it('cancels cleanly on Ctrl-C: exit 130, one line, no file and no temporary file left', async () => {
    const folder = path('cancel');
    mkdirSync(folder);
    // 128 MiB on the hdd profile under copy: minutes of work, so the signal comes mid-snapshot.
    const child = spawn(process.execPath, [cli, 'run', '--ram', '128MiB', '--storage', 'hdd', '--out', 'guest.bgsnap'], { cwd: folder });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const firstProgress = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/^snapshot \(copy\) \d+%: .*\n/m.test(stderr)) resolve();
      }),
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await Promise.race([firstProgress, exited.then(() => Promise.reject(new Error(`exited before any progress:\n${stderr}`)))]);
    const signalled = Date.now();
    child.kill('SIGINT');
    const { code, signal } = await exited;
    const tookMs = Date.now() - signalled;

    // 130 = 128 + SIGINT, as a shell reports a command Ctrl-C stopped.
    expect(signal).toBeNull();
    expect(code).toBe(130);
    expect(tookMs).toBeLessThan(5000);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('error: Cancelled by SIGINT; nothing was written to "guest.bgsnap"');
    expect(readdirSync(folder)).toEqual([]);
  }, 60_000);
});

describe('bgsnap compare', () => {
  it('runs queue once and copy per pool size, prints the table and writes the page with its plots', () => {
    const work = path('compare-files');
    mkdirSync(work);
    const r = bgsnap('compare', ...SMALL, '--pool', '0,256KiB', '--html', 'compare.html', '--dir', work);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect((lines[0] as string).split(/ {2,}/)).toEqual([...COMPARE_COLUMNS]);
    expect(lines.slice(1, -1).map((line) => line.split(/ {2,}/)[0])).toEqual(['queue', 'copy, pool 0 B', 'copy, pool 256 KiB']);
    expect(lines.at(-1)).toMatch(/^3 runs in .*; wrote compare\.html$/);
    // Progress per run on standard error; no snapshot file left behind.
    expect(r.stderr).toMatch(/^\[1\/3\] queue 100%: 4096\/4096 pages saved/m);
    expect(r.stderr).toMatch(/^\[3\/3\] copy, pool 256 KiB 100%: 4096\/4096 pages saved/m);
    expect(readdirSync(work)).toEqual([]);

    const html = readFileSync(path('compare.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toMatch(/<svg [^>]*data-plot="stall-distribution"/);
    expect(html).toMatch(/<svg [^>]*data-plot="pool-memory"/);
    expect(html.match(/<svg [^>]*data-plot="pages-saved"/g)).toHaveLength(3);
    // The pooled run's pool curve, and the bulk layer of every run's pages-saved plot.
    expect(html).toMatch(/<path class="curve" data-run="2" d="M[^"]+"/);
    expect(html.match(/<path class="area" data-via="bulk" d="M[^"]+"/g)).toHaveLength(3);
    // The stall plot: one drawn curve per run, in run order.
    const stallSvg = /<svg [^>]*data-plot="stall-distribution"[^>]*>([\s\S]*?)<\/svg>/.exec(html)?.[1] ?? '';
    const curves = [...stallSvg.matchAll(/<path class="curve" data-run="(\d+)" d="([^"]*)"/g)];
    expect(curves.map((m) => m[1])).toEqual(['0', '1', '2']);
    for (const [, , d] of curves) expect(d).toMatch(/^M[\d.]+,[\d.]+ V[\d.]+( [HV][\d.]+)+$/);
    expect(html).toMatch(/Writer stalls are the vCPUs(&#39;|&#x27;|')? own/);
    expect(html).not.toMatch(/<script/);

    // The page exists now: refused without --force before any run, replaced with it.
    const refused = bgsnap('compare', ...SMALL, '--html', 'compare.html');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe('error: Refusing to overwrite "compare.html": it exists; pass --force to replace it\n');
    expect(readFileSync(path('compare.html'), 'utf8')).toBe(html);
    // 2 MiB pages: the default pools are 0, one page and 16 MiB.
    const forced = bgsnap('compare', '--page-size', '2MiB', '--ram', '16MiB', '--storage', 'none', '--html', 'compare.html', '--force', '--dir', work);
    expect(forced.code).toBe(0);
    expect(forced.stdout.trimEnd().split('\n').slice(1, -1).map((line) => line.split(/ {2,}/)[0])).toEqual(['queue', 'copy, pool 0 B', 'copy, pool 2 MiB', 'copy, pool 16 MiB']);
    expect(readFileSync(path('compare.html'), 'utf8')).not.toBe(html);
    expect(readdirSync(dir.path).filter((name) => name.includes('compare.html'))).toEqual(['compare.html']);
  }, 60_000);

  it('prints --json with each configuration run --repeat times: its median-p99 run, the spread and every run', () => {
    const work = path('compare-json');
    mkdirSync(work);
    const r = bgsnap('compare', ...SMALL, '--pool', '256KiB', '--repeat', '2', '--json', '--dir', work);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ramBytes: 16 << 20, pageSize: 4096, vcpus: 2, storage: 'nvme', repeat: 2, html: null });
    expect(j.runs.map((run: { label: string }) => run.label)).toEqual(['queue', 'copy, pool 256 KiB']);
    for (const run of j.runs) {
      expect(run.repeats).toHaveLength(2);
      const p99s = run.repeats.map((x: { stallP99Ms: number }) => x.stallP99Ms).sort((a: number, b: number) => a - b);
      expect(run.spread.stallP99Ms).toEqual({ median: (p99s[0] + p99s[1]) / 2, min: p99s[0], max: p99s[1] });
      // The run shown is the lower middle one by p99: one of the repeats.
      expect(run.writerStall.p99).toBe(p99s[0]);
      expect(run.saved.bulk + run.saved.fault + run.saved.copy).toBe(4096);
    }
    expect(r.stderr).toMatch(/^\[4\/4\] copy, pool 256 KiB 100%/m);
    expect(readdirSync(work)).toEqual([]);
  }, 60_000);

  it('cancels on Ctrl-C with exit 130: no page written, no snapshot file left', async () => {
    const work = path('compare-cancel');
    mkdirSync(work);
    // 128 MiB on the hdd profile: the first run alone takes minutes, so the signal comes mid-snapshot.
    const child = spawn(process.execPath, [cli, 'compare', '--ram', '128MiB', '--storage', 'hdd', '--html', 'cancelled.html', '--dir', work], { cwd: dir.path });
    let stderr = '';
    const firstProgress = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/^\[1\/4\] queue \d+%: .*\n/m.test(stderr)) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await Promise.race([firstProgress, exited.then(() => Promise.reject(new Error(`exited before any progress:\n${stderr}`)))]);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('error: Cancelled by SIGINT; 0 of 4 runs done, their snapshot files removed; nothing was written to "cancelled.html"');
    expect(existsSync(path('cancelled.html'))).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  }, 60_000);

  it('exits 2 on an --html file in a folder that does not exist, before any run', () => {
    const r = bgsnap('compare', ...SMALL, '--html', 'nodir/compare.html');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(`error: option '--html <file>': the folder "nodir" of "nodir/compare.html" does not exist`);
  });

  it('exits 2 on a pool that is not whole pages', () => {
    const r = bgsnap('compare', ...SMALL, '--pool', '0,1000');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("error: option '--pool <size>': expected a multiple of the page size (4096), got 1000");
  });
});

describe('bgsnap run --from', () => {
  it('starts the guest from a snapshot with a live restore and reports the resume', () => {
    const base = bgsnap('run', ...SMALL, '--out', 'resume-base.bgsnap');
    expect(base.code, base.stderr).toBe(0);
    const r = bgsnap('run', '--from', 'resume-base.bgsnap', '--storage', 'nvme', '--out', 'resumed.bgsnap', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as RunReportJson;
    // The guest's geometry is the snapshot's.
    expect(report).toMatchObject({ ramBytes: 16 << 20, pageSize: 4096, pages: 4096 });
    const resume = report.resume;
    expect(resume?.from).toBe('resume-base.bgsnap');
    expect((resume?.loaded.fault ?? 0) + (resume?.loaded.background ?? 0)).toBe(report.pages);
    expect(resume?.openMs).toBeGreaterThan(0);
    expect(resume?.firstWriteMs).toBeGreaterThan(0);
    expect(resume?.loadMs).toBeGreaterThan(0);
    expect(resume?.faultWait.count).toBeLessThanOrEqual(resume?.faults ?? 0);
    expect(report.verify.ok).toBe(true);
  }, 60_000);

  it('refuses --ram with --from, and --out naming the same file', () => {
    const ram = bgsnap('run', '--from', 'resume-base.bgsnap', '--ram', '16MiB', '--out', 'x.bgsnap');
    expect(ram.code).toBe(2);
    expect(ram.stderr).toContain("'--ram <size>' cannot be used with '--from <file>'");
    const same = bgsnap('run', '--from', 'resume-base.bgsnap', '--out', 'resume-base.bgsnap', '--force');
    expect(same.code).toBe(2);
    expect(same.stderr).toContain("must name another file than '--from <file>'");
  });
});
