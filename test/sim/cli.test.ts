import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
let dir = '';

/** Runs the compiled CLI; returns its exit code and output. */
function bgsnap(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bgsnap simulate (compiled CLI)', () => {
  beforeAll(() => {
    // The compiled CLI comes from the package's own build (test/support/buildOnce.ts).
    if (!existsSync(cli)) throw new Error(`no compiled CLI at ${cli}`);
    dir = mkdtempSync(join(tmpdir(), 'bgsnap-cli-'));
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is an executable node script', () => {
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('simulates a small memory and prints the stats', () => {
    const r = bgsnap('simulate', '--ram', '16MiB', '--storage', 'nvme', '--strategy', 'queue', '--vcpus', '1', '--write-rate', '333.33333', '--seed', '5');
    expect(r.code).toBe(0);
    // Figures rounded: no unrounded float; sizes and rates in binary units only.
    expect(r.stdout).not.toMatch(/\d\.\d{3,}/);
    expect(r.stdout).not.toMatch(/\b(MB|GB|kB)\b/);
    expect(r.stdout).toMatch(/^workload +1 writers × 333 writes\/s, uniform; seed 5$/m);
    expect(r.stdout).toMatch(/^storage +nvme: [\d.]+ GiB\/s, /m);
    expect(r.stdout).toMatch(/^memory +16 MiB \(4096 pages of 4 KiB\)$/m);
    expect(r.stdout).toMatch(/^strategy +queue$/m);
    expect(r.stdout).toMatch(/^writer stall +p50 .*, p99 .*, max /m);
  });

  it('prints the same result as JSON, seeded', () => {
    const args = ['simulate', '--ram', '16MiB', '--pool', '64KiB', '--write-rate', '20000', '--workload', 'zipf', '--json'];
    const a = JSON.parse(bgsnap(...args).stdout) as { stats: { totalPages: number; pool: { pages: number } }; wallMs?: number };
    const b = JSON.parse(bgsnap(...args).stdout) as typeof a;
    expect(a.stats.totalPages).toBe(4096);
    expect(a.stats.pool.pages).toBe(16);
    expect({ ...a, wallMs: 0 }).toStrictEqual({ ...b, wallMs: 0 });
  });

  it('sweeps, prints a table and writes the HTML report', () => {
    const html = join(dir, 'sweep.html');
    const args = ['simulate', '--sweep', '--ram', '16MiB', '--strategy', 'queue,copy', '--pool', '0,1MiB', '--storage', 'hdd,ssd', '--html', html];
    const r = bgsnap(...args);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^storage +strategy +pool +faults +stall p50 +p99/);
    expect(lines).toHaveLength(1 + 6 + 1);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<svg');
    // Points for the pool sizes that ran, no line joining them; pool 0 named beside queue, not hidden.
    expect(page).not.toContain('<polyline');
    // Two copy runs per storage, in its stall plot and in its duration plot.
    expect(page.match(/<circle /g)).toHaveLength(8);
    expect(page).toContain('>queue, pool 0 B</text>');

    // The page exists now: refused without --force (nothing run, the page unchanged), replaced with it.
    const refused = bgsnap(...args);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(`error: Refusing to overwrite ${JSON.stringify(html)}: it exists; pass --force to replace it\n`);
    expect(readFileSync(html, 'utf8')).toBe(page);
    expect(bgsnap(...args, '--force').code).toBe(0);
  });

  it('takes the flags of run: --ram, --vcpus, --write-rate, --workload, with one range and one wording', () => {
    const hotset = JSON.parse(bgsnap('simulate', '--ram', '16MiB', '--vcpus', '3', '--write-rate', '2000', '--workload', 'hotset', '--json').stdout);
    expect(hotset.workload).toMatchObject({ writers: 3, writesPerSecond: 2000, hotSetBytes: 1 << 20, hotShare: 0.9, distribution: 'uniform' });
    const zipf = JSON.parse(bgsnap('simulate', '--ram', '16MiB', '--workload', 'zipf', '--zipf-exponent', '1.5', '--json').stdout);
    expect(zipf.workload).toMatchObject({ hotSetBytes: 0, distribution: 'zipf', zipfExponent: 1.5 });
    // The old name of --ram still works, alone.
    const old = JSON.parse(bgsnap('simulate', '--memory', '16MiB', '--json').stdout);
    expect(old.stats.totalPages).toBe(4096);
    const cases = [
      [['--vcpus', '0'], `error: option '--vcpus <n>' argument '0' is invalid. expected a decimal integer from 1 to 64, got "0"`],
      [['--vcpus', '1000'], `error: option '--vcpus <n>' argument '1000' is invalid. expected a decimal integer from 1 to 64, got "1000"`],
      [['--write-rate', 'max'], "error: option '--write-rate <n>': max has no end in virtual time; expected writes per second above 0"],
      [['--workload', 'hot'], `error: option '--workload <name>' argument 'hot' is invalid. expected one of random, hotset, zipf, got "hot"`],
      [['--memory', '2MiB'], "error: option '--memory <size>' is the old name of --ram: pass one of them"],
      [['--html', 'x.html'], "error: option '--html <file>' needs --sweep"],
    ] as const;
    for (const [args, reason] of cases) {
      const r = bgsnap('simulate', '--ram', '1MiB', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(reason);
    }
    // --ram is not taken for --rate.
    expect(bgsnap('simulate', '--ram', '1MiB').stderr).not.toContain('Did you mean');
  });

  it('exits 2 with a one-line reason and the usage on a usage error', () => {
    for (const args of [['simulate', '--ram', '12 bananas'], ['simulate', '--strategy', 'queue,copy'], ['simulate', '--frobnicate'], ['simulate', '--ram', '1000']]) {
      const r = bgsnap(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const [reason, usage, ...rest] = r.stderr.trim().split('\n');
      expect(reason).toMatch(/^error: /);
      expect(usage).toBe('Usage: bgsnap simulate [options]');
      expect(rest).toEqual(["Run 'bgsnap simulate --help' for the options."]);
    }
    expect(bgsnap('simulate', '--ram', '1000').stderr).toMatch(/^error: option '--ram <size>': expected a positive multiple of the page size/);
  });

  it('takes decimal integers only', () => {
    const ranges: Record<string, string> = { '--vcpus': 'from 1 to 64', '--seed': 'from 0 to 4294967295', '--capacity': 'from 1 up' };
    for (const [flag, value] of [['--vcpus', '0x10'], ['--seed', '1e3'], ['--capacity', '2.0'], ['--vcpus', '+1']] as const) {
      const r = bgsnap('simulate', '--ram', '1MiB', flag, value);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`expected a decimal integer ${ranges[flag]}, got "${value}"`);
    }
    expect(bgsnap('simulate', '--ram', '1MiB', '--vcpus', '3', '--seed', '007').code).toBe(0);
  });

  it('refuses --zipf-exponent without the zipf workload, naming the flag it needs', () => {
    for (const args of [['--zipf-exponent', '2'], ['--workload', 'hotset', '--zipf-exponent', '2']]) {
      const r = bgsnap('simulate', '--ram', '1MiB', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe("error: option '--zipf-exponent <s>' needs --workload zipf");
    }
    expect(bgsnap('simulate', '--ram', '1MiB', '--workload', 'zipf', '--zipf-exponent', '2').code).toBe(0);
  });

  it('runs a value listed twice once', () => {
    expect(bgsnap('simulate', '--ram', '1MiB', '--storage', 'ssd,ssd', '--strategy', 'copy,copy').code).toBe(0);
    const r = bgsnap('simulate', '--sweep', '--ram', '1MiB', '--storage', 'nvme,ssd,nvme', '--strategy', 'queue,queue', '--pool', '0,0');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').slice(1, -1).map((line) => line.split(/ +/).slice(0, 2).join(' '))).toEqual(['nvme queue', 'ssd queue']);
  });

  it('refuses a directory for --html before any run (exit 2)', () => {
    for (const target of [dir, `${join(dir, 'not-yet')}/`]) {
      const r = bgsnap('simulate', '--sweep', '--ram', '1MiB', '--html', target);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`error: option '--html <file>': ${JSON.stringify(target)} is a folder, expected a file name`);
      expect(r.stderr).not.toContain('[1/');
    }
    expect(existsSync(join(dir, 'not-yet'))).toBe(false);
  });

  it('prints the table before writing the report, so a failed write loses no results', () => {
    // A link to a file in a folder that does not exist: it passes the checks (nothing is there to follow),
    // then the write refuses to replace the link.
    const link = join(dir, 'dangling.html');
    symlinkSync(join(dir, 'gone', 'report.html'), link);
    const r = bgsnap('simulate', '--sweep', '--ram', '1MiB', '--strategy', 'queue', '--storage', 'nvme', '--html', link);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^storage +strategy +pool +faults/);
    expect(r.stdout).toMatch(/^nvme +queue /m);
    expect(r.stderr).toMatch(/^error: Refusing to overwrite ".*dangling\.html": it exists; pass --force to replace it$/m);
    expect(existsSync(join(dir, 'gone'))).toBe(false);
  });

  it('names the hotset workload, its share as a percentage, in the report', () => {
    const html = join(dir, 'hot.html');
    const r = bgsnap('simulate', '--sweep', '--ram', '1MiB', '--strategy', 'queue', '--storage', 'nvme', '--workload', 'hotset', '--html', html);
    expect(r.code).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain('hotset: 90% of writes to 64 KiB;');
  });

  it('exits 2 on an --html file in a folder that does not exist, before any run', () => {
    const target = join(dir, 'missing', 'dir', 'x.html');
    const r = bgsnap('simulate', '--sweep', '--ram', '1MiB', '--html', target);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: option '--html <file>': the folder ${JSON.stringify(join(dir, 'missing', 'dir'))} of ${JSON.stringify(target)} does not exist`);
    expect(r.stderr).not.toContain('[1/');
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
