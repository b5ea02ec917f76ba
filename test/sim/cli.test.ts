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
    const r = bgsnap('simulate', '--memory', '16MiB', '--storage', 'nvme', '--strategy', 'queue', '--writers', '1', '--seed', '5');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^memory +16 MiB \(4096 pages of 4 KiB\)$/m);
    expect(r.stdout).toMatch(/^strategy +queue$/m);
    expect(r.stdout).toMatch(/^writer stall +p50 .*, p99 .*, max /m);
  });

  it('prints the same result as JSON, seeded', () => {
    const args = ['simulate', '--memory', '16MiB', '--pool', '64KiB', '--rate', '20000', '--hot', '1MiB', '--distribution', 'zipf', '--json'];
    const a = JSON.parse(bgsnap(...args).stdout) as { stats: { totalPages: number; pool: { pages: number } }; wallMs?: number };
    const b = JSON.parse(bgsnap(...args).stdout) as typeof a;
    expect(a.stats.totalPages).toBe(4096);
    expect(a.stats.pool.pages).toBe(16);
    expect({ ...a, wallMs: 0 }).toStrictEqual({ ...b, wallMs: 0 });
  });

  it('sweeps, prints a table and writes the HTML report', () => {
    const html = join(dir, 'sweep.html');
    const r = bgsnap('simulate', '--sweep', '--memory', '16MiB', '--strategy', 'queue,copy', '--pool', '0,1MiB', '--storage', 'hdd,ssd', '--html', html);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^storage +strategy +pool +faults +stall p50 +p99/);
    expect(lines).toHaveLength(1 + 6 + 1);
    expect(readFileSync(html, 'utf8')).toContain('<svg');
  });

  it('exits 2 with a one-line reason and the usage on a usage error', () => {
    for (const args of [['simulate', '--memory', '12 bananas'], ['simulate', '--strategy', 'queue,copy'], ['simulate', '--frobnicate'], ['simulate', '--memory', '1000']]) {
      const r = bgsnap(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const [reason, usage, ...rest] = r.stderr.trim().split('\n');
      expect(reason).toMatch(/^error: /);
      expect(usage).toBe('Usage: bgsnap simulate [options]');
      expect(rest).toEqual(["Run 'bgsnap simulate --help' for the options."]);
    }
    expect(bgsnap('simulate', '--memory', '1000').stderr).toMatch(/^error: option '--memory': expected a positive multiple of the page size/);
  });

  it('takes decimal integers only', () => {
    for (const [flag, value] of [['--writers', '0x10'], ['--seed', '1e3'], ['--capacity', '2.0'], ['--writers', '+1']]) {
      const r = bgsnap('simulate', '--memory', '1MiB', flag as string, value as string);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`expected a decimal integer from ${flag === '--capacity' ? 1 : 0} up, got "${value}"`);
    }
    expect(bgsnap('simulate', '--memory', '1MiB', '--writers', '3', '--seed', '007').code).toBe(0);
  });

  it('refuses --hot-share without a hot set and --zipf-exponent without zipf, naming the flag they need', () => {
    const cases = [
      [['--hot-share', '0.5'], "error: option '--hot-share <share>' needs --hot <size> (a hot set above 0 bytes)"],
      [['--hot', '0', '--hot-share', '0.5'], "error: option '--hot-share <share>' needs --hot <size> (a hot set above 0 bytes)"],
      [['--zipf-exponent', '2'], "error: option '--zipf-exponent <s>' needs --distribution zipf"],
      [['--distribution', 'uniform', '--zipf-exponent', '2'], "error: option '--zipf-exponent <s>' needs --distribution zipf"],
    ] as const;
    for (const [args, reason] of cases) {
      const r = bgsnap('simulate', '--memory', '1MiB', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(reason);
    }
    expect(bgsnap('simulate', '--memory', '1MiB', '--hot', '64KiB', '--hot-share', '0.5', '--distribution', 'zipf', '--zipf-exponent', '2').code).toBe(0);
  });

  it('runs a value listed twice once', () => {
    expect(bgsnap('simulate', '--memory', '1MiB', '--storage', 'ssd,ssd', '--strategy', 'copy,copy').code).toBe(0);
    const r = bgsnap('simulate', '--sweep', '--memory', '1MiB', '--storage', 'nvme,ssd,nvme', '--strategy', 'queue,queue', '--pool', '0,0');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').slice(1, -1).map((line) => line.split(/ +/).slice(0, 2).join(' '))).toEqual(['nvme queue', 'ssd queue']);
  });

  it('refuses a directory for --html before any run (exit 2)', () => {
    for (const target of [dir, `${join(dir, 'not-yet')}/`]) {
      const r = bgsnap('simulate', '--sweep', '--memory', '1MiB', '--html', target);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`error: option '--html <file>': ${JSON.stringify(target)} is a directory; name a file`);
      expect(r.stderr).not.toContain('[1/');
    }
    expect(existsSync(join(dir, 'not-yet'))).toBe(false);
  });

  it('prints the table before writing the report, so a failed write loses no results', () => {
    // A link to a file in a folder that does not exist: it passes the checks, then the write fails.
    const link = join(dir, 'dangling.html');
    symlinkSync(join(dir, 'gone', 'report.html'), link);
    const r = bgsnap('simulate', '--sweep', '--memory', '1MiB', '--strategy', 'queue', '--storage', 'nvme', '--html', link);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^storage +strategy +pool +faults/);
    expect(r.stdout).toMatch(/^nvme +queue /m);
    expect(r.stderr).toMatch(/^error: ENOENT/m);
  });

  it('writes the hot share as a percentage in the report', () => {
    const html = join(dir, 'hot.html');
    const r = bgsnap('simulate', '--sweep', '--memory', '1MiB', '--strategy', 'queue', '--storage', 'nvme', '--hot', '64KiB', '--hot-share', '0.57', '--html', html);
    expect(r.code).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain('hot set 64 KiB taking 57%;');
  });

  it('exits 1 on a runtime failure', () => {
    const r = bgsnap('simulate', '--sweep', '--memory', '1MiB', '--html', join(dir, 'missing', 'dir', 'x.html'));
    expect(r.code).toBe(1);
    // The report's folder is checked before the runs, so a bad path fails at once.
    expect(r.stderr).toMatch(/^error: ENOENT/);
    expect(r.stderr).not.toContain('[1/');
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
