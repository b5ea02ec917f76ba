/**
 * `bgsnap verify`, `inspect` and `restore` as a user runs them: the compiled
 * CLI, spawned, on snapshot files made here with snapshot() and FileSink
 * while writers keep writing.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshot } from '../../src/pipeline/snapshot';
import { formatBytes } from '../../src/sim/format';
import type { SnapshotStats } from '../../src/pipeline/events';
import { FileSink } from '../../src/storage/FileSink';
import type { PageRun, SnapshotHeader, Sink, SinkCallback } from '../../src/storage/Sink';
import { filledMemory, runToEnd, startWriters, tempDir } from '../storage/support';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const dir = tempDir('cli-files');
const path = (name: string) => join(dir.path, name);

/** Runs the compiled CLI; returns its exit code and output. */
function bgsnap(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir.path, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A FileSink that writes a per-writer cut into the header, as a host with writer threads does. */
class CutSink implements Sink {
  constructor(
    private readonly inner: Sink,
    private readonly cut: readonly number[],
  ) {}
  get capacity(): number {
    return this.inner.capacity;
  }
  start(header: SnapshotHeader): void {
    this.inner.start({ ...header, cut: this.cut });
  }
  write(run: PageRun, done: SinkCallback): void {
    this.inner.write(run, done);
  }
  end(done: SinkCallback): void {
    this.inner.end(done);
  }
  abort(reason: unknown): void | PromiseLike<void> {
    return this.inner.abort(reason);
  }
}

const PAGE = 4096;
const BLOCKS = [
  { name: 'ram', size: 64 * PAGE },
  { name: 'vga', size: 8 * PAGE },
];
/** The memory's bytes at t0, blocks one after another. */
let image: Buffer;
let stats: SnapshotStats;
let good: Buffer;

beforeAll(async () => {
  // The compiled CLI comes from the package's own build (test/support/buildOnce.ts).
  if (!existsSync(cli)) throw new Error(`no compiled CLI at ${cli}`);

  // A snapshot taken while two writers write: one page per write to storage, one write in
  // flight, so that writers fault on pages not yet saved and the copy strategy copies them.
  const memory = filledMemory(PAGE, BLOCKS, 11, 0.3);
  let writers: ReturnType<typeof startWriters> | undefined;
  const sink = new CutSink(new FileSink(path('good.bgsnap'), { capacity: 1 }), [3, 5]);
  const outcome = await runToEnd(snapshot(memory, sink, { strategy: 'copy', runBytes: PAGE }), () => {
    image = Buffer.concat(memory.blocks.map((b) => Buffer.from(b.bytes)));
    writers = startWriters(memory, 2, 5);
  });
  await writers?.stop();
  if (outcome.kind !== 'done') throw outcome.error;
  stats = outcome.stats;
  good = readFileSync(path('good.bgsnap'));
  // The writers changed memory after t0: the image must be the t0 one, not today's.
  if (Buffer.concat(memory.blocks.map((b) => Buffer.from(b.bytes))).equals(image)) throw new Error('the writers changed nothing');

  // A copy with one byte flipped in the middle of the records, and one cut short.
  const flipped = Buffer.from(good);
  const at = Math.floor(good.length / 2);
  flipped[at] = (flipped[at] as number) ^ 0x40;
  writeFileSync(path('flipped.bgsnap'), flipped);
  writeFileSync(path('short.bgsnap'), good.subarray(0, good.length - 10));
}, 60_000);
afterAll(() => dir.remove());

describe('bgsnap verify', () => {
  it('passes a good snapshot file with a one-line answer', () => {
    const r = bgsnap('verify', 'good.bgsnap');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      `ok: "good.bgsnap" is a complete snapshot: 72 pages of 4 KiB (288 KiB), ${stats.totalPages - countNonZero()} of them zero, ` +
        `in ${JSON.parse(bgsnap('inspect', 'good.bgsnap', '--json').stdout).records.total} records; ${good.length} bytes (${formatBytes(good.length)})\n`,
    );
  });

  it('refuses a corrupted copy with exit 1, naming the byte', () => {
    const r = bgsnap('verify', 'flipped.bgsnap');
    expect(r.code).toBe(1);
    const [fail, problem, ...rest] = r.stdout.trimEnd().split('\n');
    expect(fail).toMatch(/^FAIL: "flipped.bgsnap" is not a valid snapshot: 1 problem \(\d+ good records read, \d+ bytes in the file\)$/);
    expect(problem).toMatch(/^ {2}at byte \d+: expected a record whose crc32 \(stored at byte \d+\) is 0x[0-9a-f]{8}, found crc32 0x[0-9a-f]{8}$/);
    expect(rest).toEqual([]);
    const offset = Number(/at byte (\d+)/.exec(problem as string)?.[1]);
    expect(offset).toBeLessThanOrEqual(Math.floor(good.length / 2));
    expect(r.stderr).toBe(`error: "flipped.bgsnap" is not a valid snapshot: At byte ${offset}: ${(problem as string).replace(/^ {2}at byte \d+: /, '')}\n`);
  });

  it('refuses a truncated copy, and says so as JSON with --json', () => {
    const r = bgsnap('verify', 'short.bgsnap', '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; fileBytes: number; problems: { offset: number; found: string }[] };
    expect(report.ok).toBe(false);
    expect(report.fileBytes).toBe(good.length - 10);
    expect(report.problems[0]?.found).toBe(`the end of the file at byte ${good.length - 10}`);
    expect(r.stderr).toMatch(/^error: "short.bgsnap" is not a valid snapshot: At byte \d+: expected the trailer: 56 bytes/);
  });

  it('passes with --json: counts consistent with the snapshot', () => {
    const r = bgsnap('verify', 'good.bgsnap', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, fileBytes: good.length, pageSize: PAGE, totalPages: 72, pages: 72, problems: [] });
  });

  it('exits 2 naming the path for a file that is not there, or a folder', () => {
    const missing = bgsnap('verify', 'missing.bgsnap');
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.split('\n')[0]).toBe('error: no such file: "missing.bgsnap"');
    const folder = bgsnap('verify', dir.path);
    expect(folder.code).toBe(2);
    expect(folder.stderr.split('\n')[0]).toBe(`error: ${JSON.stringify(dir.path)} is a folder, expected a snapshot file`);
    expect(folder.stderr).not.toMatch(/EISDIR|ENOENT/);
  });
});

describe('bgsnap inspect', () => {
  it('shows the header, the cut and the records by how they were saved', () => {
    const r = bgsnap('inspect', 'good.bgsnap');
    expect(r.code).toBe(0);
    const rows = Object.fromEntries(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => [l.slice(0, 12).trim(), l.slice(14)]),
    );
    expect(rows.file).toBe(`"good.bgsnap", ${good.length} bytes (${formatBytes(good.length)})`);
    expect(rows.strategy).toBe('copy');
    expect(rows['page size']).toBe('4 KiB');
    expect(rows.memory).toBe('288 KiB (72 pages) in 2 blocks');
    expect(r.stdout).toMatch(/^blocks {8}ram: 256 KiB \(64 pages\), from page 0\n {14}vga: 32 KiB \(8 pages\), from page 64$/m);
    expect(rows.cut).toBe('2 writers: 3, 5 writes in the image');
    // t0 as a date; no raw clock reading, and no unrounded float anywhere in the human output.
    expect(rows.t0).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(r.stdout).not.toMatch(/\d+\.\d{4,}/);
    expect(rows.records).toMatch(/^\d+: bulk \d+ \(\d+ pages\), fault \d+ \(\d+ pages\), copy \d+ \(\d+ pages\)$/);
    expect(rows.pages).toBe(`72 of 72 read, ${72 - countNonZero()} of them zero (stored without data)`);
  });

  it('counts, as JSON, what the snapshot saved by bulk, fault and copy', () => {
    const r = bgsnap('inspect', 'good.bgsnap', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.header).toMatchObject({ version: 2, pageSize: PAGE, strategy: 'copy', totalPages: 72, cut: [3, 5] });
    expect(j.header.blocks).toEqual([
      { name: 'ram', size: 64 * PAGE, pages: 64, firstPage: 0 },
      { name: 'vga', size: 8 * PAGE, pages: 8, firstPage: 64 },
    ]);
    expect(j.header.t0).toBe(stats.t0);
    // The file's records agree with the pipeline's own count of what it saved, and how.
    expect(j.pages).toEqual({ total: 72, bulk: stats.saved.bulk, fault: stats.saved.fault, copy: stats.saved.copy, zero: 72 - countNonZero() });
    expect(stats.saved.copy).toBeGreaterThan(0);
    expect(j.records.total).toBe(j.records.bulk + j.records.fault + j.records.copy);
    expect(j.trailer).toMatchObject({ records: j.records.total, pages: 72, zeroPages: j.pages.zero });
    // Header, records, the index (16 + 24 a record + 4 bytes) and the 56-byte trailer.
    expect(j.header.byteLength + j.recordBytes + 16 + 24 * j.records.total + 4 + 56).toBe(good.length);
    expect(j.fileBytes).toBe(good.length);
    expect(j.problem).toBeNull();
  });

  it('shows what it read of a corrupted file, then exits 1 with the problem', () => {
    const r = bgsnap('inspect', 'flipped.bgsnap', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.header.cut).toEqual([3, 5]);
    expect(j.trailer).toBeNull();
    expect(j.pages.total).toBeLessThan(72);
    expect(j.problem.message).toMatch(/^At byte \d+: expected a record whose crc32/);
    expect(r.stderr).toBe(`error: "flipped.bgsnap" is not a valid snapshot: ${j.problem.message}; the counts above stop at that byte\n`);
  });
});

describe('bgsnap restore', () => {
  it('writes the memory as it was at t0 as a raw image, blocks in order', () => {
    const r = bgsnap('restore', 'good.bgsnap', '--into', 'good.raw');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(path('good.raw')).equals(image)).toBe(true);
    expect(r.stdout).toBe(
      `restored "good.bgsnap" into "good.raw": ${image.length} bytes (288 KiB), 72 pages of 4 KiB, ${72 - countNonZero()} of them zero\n` +
        'block  offset     size\n' +
        'ram         0  256 KiB\n' +
        'vga    262144   32 KiB\n',
    );
    expect(tempFiles()).toEqual([]);
  });

  it('refuses to overwrite an existing image without --force, and replaces it with', () => {
    writeFileSync(path('old.raw'), 'keep me');
    const refused = bgsnap('restore', 'good.bgsnap', '--into', 'old.raw');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe('error: Refusing to overwrite "old.raw": it exists; pass --force to replace it\n');
    expect(readFileSync(path('old.raw'), 'utf8')).toBe('keep me');

    const forced = bgsnap('restore', 'good.bgsnap', '--into', 'old.raw', '--force', '--json');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({
      path: 'good.bgsnap',
      into: 'old.raw',
      bytes: image.length,
      pageSize: PAGE,
      pages: 72,
      zeroPages: 72 - countNonZero(),
      blocks: [
        { name: 'ram', offset: 0, size: 64 * PAGE },
        { name: 'vga', offset: 64 * PAGE, size: 8 * PAGE },
      ],
    });
    expect(readFileSync(path('old.raw')).equals(image)).toBe(true);
    expect(tempFiles()).toEqual([]);
  });

  it('leaves nothing under the name, nor a temporary file, for a bad snapshot', () => {
    for (const bad of ['flipped.bgsnap', 'short.bgsnap']) {
      const r = bgsnap('restore', bad, '--into', 'bad.raw');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: "${bad}" is not a valid snapshot: At byte \\d+: .*; nothing was written to "bad.raw"\\n$`));
      expect(existsSync(path('bad.raw'))).toBe(false);
    }
    // With --force, the image already there stays as it was.
    copyFileSync(path('good.raw'), path('kept.raw'));
    expect(bgsnap('restore', 'flipped.bgsnap', '--into', 'kept.raw', '--force').code).toBe(1);
    expect(readFileSync(path('kept.raw')).equals(image)).toBe(true);
    expect(tempFiles()).toEqual([]);
  });
});

describe('usage errors', () => {
  const cases: [string[], string, string][] = [
    [['verify'], "error: missing required argument 'file'", 'verify [options] <file...>'],
    [['inspect', 'good.bgsnap', 'extra.bgsnap'], 'error: no such file: "extra.bgsnap"', 'inspect [options] <file...>'],
    [['verify', 'good.bgsnap', '--frobnicate'], "error: unknown option '--frobnicate'", 'verify [options] <file...>'],
    [['restore', 'good.bgsnap'], "error: required option '--into <raw_image>' not specified", 'restore <file...> --into <raw_image> [options]'],
    [['restore', 'good.bgsnap', '--into', '.'], 'error: option \'--into <raw_image>\': "." is a folder, expected a file name', 'restore <file...> --into <raw_image> [options]'],
    [['restore', 'good.bgsnap', '--into', 'x/'], 'error: option \'--into <raw_image>\': "x/" is a folder, expected a file name', 'restore <file...> --into <raw_image> [options]'],
    [['restore', 'good.bgsnap', '--into', 'missing/dir/x.raw'], 'error: option \'--into <raw_image>\': the folder "missing/dir" of "missing/dir/x.raw" does not exist', 'restore <file...> --into <raw_image> [options]'],
    [['restore', 'missing.bgsnap', '--into', 'x.raw'], 'error: no such file: "missing.bgsnap"', 'restore <file...> --into <raw_image> [options]'],
    [['restore', 'good.bgsnap', '--into', './good.bgsnap', '--force'], 'error: option \'--into <raw_image>\': "./good.bgsnap" is the snapshot file itself; name another file', 'restore <file...> --into <raw_image> [options]'],
    [['inspect', '.'], 'error: "." is a folder, expected a snapshot file', 'inspect [options] <file...>'],
    [['sqlite-export', 'good.bgsnap', 'missing/dir/out'], 'error: argument \'dir\': the folder "missing/dir" of "missing/dir/out" does not exist', 'sqlite-export [options] <file...> <dir>'],
    [['sqlite-export', 'good.bgsnap', 'good.bgsnap'], 'error: argument \'dir\': "good.bgsnap" is a file, expected a folder', 'sqlite-export [options] <file...> <dir>'],
    [['sqlite-export', 'missing.bgsnap', 'out'], 'error: no such file: "missing.bgsnap"', 'sqlite-export [options] <file...> <dir>'],
  ];
  it.each(cases)('bgsnap %j exits 2 with a one-line reason and the usage', (args, reason, usage) => {
    const r = bgsnap(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const command = args[0] as string;
    expect(r.stderr.trimEnd().split('\n')).toEqual([reason, `Usage: bgsnap ${usage}`, `Run 'bgsnap ${command} --help' for the options.`]);
    expect(readFileSync(path('good.bgsnap')).equals(good)).toBe(true);
  });
});

describe('help', () => {
  it("shows restore's required --into in its usage line, not among the optional flags", () => {
    const r = bgsnap('restore', '--help');
    expect(r.code).toBe(0);
    const [usage, ...rest] = r.stdout.split('\n');
    expect(usage).toBe('Usage: bgsnap restore <file...> --into <raw_image> [options]');
    const options = rest.slice(rest.indexOf('Options:'));
    expect(options.join('\n')).not.toContain('--into');
    expect(options.join('\n')).toContain('--force');
  });
});

/** Pages of the t0 image holding a byte other than zero. */
function countNonZero(): number {
  let n = 0;
  for (let p = 0; p < image.length / PAGE; p++) if (image.subarray(p * PAGE, (p + 1) * PAGE).some((b) => b !== 0)) n++;
  return n;
}

/** Temporary files a restore may have left in the folder. */
function tempFiles(): string[] {
  return readdirSync(dir.path).filter((name) => name.endsWith('.tmp'));
}
