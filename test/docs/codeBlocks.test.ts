/**
 * Every TypeScript block of the README and of docs/*.md compiles and runs as
 * written, under the repository's own tsconfig.json, importing 'bgsnap' and
 * 'bgsnap/sqlite' the way an app does.
 *
 * A block opened with ```ts is type-checked, then run with ts-node from the
 * repository's root; it passes when it exits with 0 (the examples check what
 * they show and throw otherwise). A block opened with ```ts no-run is a
 * fragment on purpose (a worker's half, a snippet of a larger app): it is
 * only type-checked. Each block is written to a temporary folder inside the
 * repository, so that the tsconfig's paths and ts-node's settings apply.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

interface Block {
  /** `README.md#2`: the file and the block's place among its TypeScript blocks. */
  readonly name: string;
  /** The Markdown line the block's code starts on (1-based). */
  readonly line: number;
  readonly run: boolean;
  readonly code: string;
  file: string;
}

/** The ```ts blocks of one Markdown file. */
function blocksOf(markdown: string, name: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(?:\s+(.*))?$/.exec(lines[i] ?? '');
    if (!open) continue;
    const flags = (open[2] ?? '').split(/\s+/).filter(Boolean);
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    if (end === lines.length) throw new Error(`${name}: the block opened on line ${i + 1} is never closed`);
    blocks.push({ name: `${name}#${blocks.length + 1}`, line: start + 1, run: !flags.includes('no-run'), code: lines.slice(start, end).join('\n'), file: '' });
    i = end;
  }
  return blocks;
}

const markdown = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const blocks = markdown.flatMap((file) => blocksOf(readFileSync(join(root, file), 'utf8'), file));
let dir = '';

describe('TypeScript blocks in README.md and docs/', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(root, '.doc-blocks-'));
    blocks.forEach((block, n) => {
      block.file = join(dir, `block${n}.ts`);
      // `export {}` keeps each block a module of its own in the one type check.
      writeFileSync(block.file, `${block.code}\nexport {};\n`);
    });
    // The type check: the repository's settings, the blocks as roots, with the
    // sources' own declaration files (ambient module types the sources rely on).
    const include = ['*.ts', '../src/**/*.d.ts'];
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true }, include }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds runnable blocks in the README', () => {
    expect(blocks.filter((b) => b.run && b.name.startsWith('README.md#')).length).toBeGreaterThan(0);
  });

  it('type-checks every block under the repository tsconfig', () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
    // Name each error by the Markdown block and line it comes from.
    const located = `${r.stdout}${r.stderr}`.replace(/^(\S*?block(\d+)\.ts)\((\d+),(\d+)\)/gm, (_m, _f: string, n: string, l: string, c: string) => {
      const block = blocks[Number(n)];
      return block ? `${block.name} (markdown line ${block.line + Number(l) - 1}, column ${c})` : _m;
    });
    expect(located.trim()).toBe('');
    expect(r.status).toBe(0);
  }, 180_000);

  for (const block of blocks.filter((b) => b.run)) {
    it(`runs ${block.name} (from line ${block.line})`, () => {
      const r = spawnSync(process.execPath, ['--require', 'ts-node/register', relative(root, block.file)], {
        cwd: root,
        encoding: 'utf8',
        timeout: 90_000,
      });
      expect({ code: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    }, 120_000);
  }
});
