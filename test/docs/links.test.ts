/**
 * Every relative link in README.md and docs/*.md points at a file of the
 * repository, and at a heading of it when the link names one: the docs ship
 * with the package, so they must not point outside it or at moved sections.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings, outside code fences. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (heading?.[1] !== undefined) anchors.add(anchor(heading[1]));
  }
  return anchors;
}

/** Relative links `[text](target)` outside code fences and inline code. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((t) => !/^[a-z]+:/i.test(t));
}

describe('links in README.md and docs/', () => {
  it('finds links to check', () => {
    expect(linksOf(readFileSync(join(root, 'README.md'), 'utf8')).length).toBeGreaterThan(5);
  });

  for (const file of files) {
    it(`${file}: every relative link resolves inside the repository`, () => {
      const broken: string[] = [];
      for (const link of linksOf(readFileSync(join(root, file), 'utf8'))) {
        const [path = '', hash] = link.split('#');
        const target = path === '' ? join(root, file) : join(root, dirname(file), path);
        if (relative(root, target).startsWith('..') || !existsSync(target)) {
          broken.push(`${link}: no such file in the repository`);
        } else if (hash !== undefined && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(hash)) {
          broken.push(`${link}: no heading with that anchor`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
