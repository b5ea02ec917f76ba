// A list of files given as a chain (base first) must be one chain
// (docs/FORMAT.md, "Chains"): verify reports the first link that breaks a
// rule as a ChainError, and restore throws it with memory untouched.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChainError, type ChainProblem } from '../../src/errors';
import { restore } from '../../src/format/restore';
import { verify } from '../../src/format/verify';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { tempDir } from '../storage/support';
import { v1Bytes } from './v1Writer';
import { allPages, chainIdentities, testHeader, writeSnapshot } from './writeFile';
import { writeFileSync } from 'node:fs';

const dir = tempDir('chain-refusals');
afterAll(() => dir.remove());

/** Links a, b, c, d of one chain; x0, x1 of another; v1, a version 1 file. */
const file: Record<string, string> = {};
beforeAll(() => {
  const [a, b, c, d] = chainIdentities(4);
  const [x0, x1] = chainIdentities(2);
  const ids = { a, b, c, d, x0, x1 };
  for (const [name, identity] of Object.entries(ids)) {
    file[name] = dir.file(`${name}.bgsnap`);
    const full = identity?.link === 0;
    writeSnapshot(file[name] as string, testHeader(identity), full ? allPages(1) : [{ block: 0, page: identity?.link ?? 0, count: 1, fill: 2 }]);
  }
  // b's twin with 1024-byte pages: right ids, wrong geometry.
  file.bBig = dir.file('b-big.bgsnap');
  writeSnapshot(file.bBig, testHeader(b, 1024), [{ block: 0, page: 0, count: 1, fill: 2 }]);
  // A second full snapshot: its own root.
  const own = randomUUID();
  file.full2 = dir.file('full2.bgsnap');
  writeSnapshot(file.full2, testHeader({ id: own, root: own, link: 0 }), allPages(3));
  // b's sibling: another child of a.
  file.sibling = dir.file('sibling.bgsnap');
  writeSnapshot(file.sibling, testHeader({ id: randomUUID(), parent: a?.id as string, root: a?.id as string, link: 1 }), []);
  // A link numbered 1 in a's chain whose parent is no snapshot in the list.
  file.stray = dir.file('stray.bgsnap');
  writeSnapshot(file.stray, testHeader({ id: randomUUID(), parent: randomUUID(), root: a?.id as string, link: 1 }), []);
  file.v1 = dir.file('v1.bgsnap');
  writeFileSync(file.v1, v1Bytes(testHeader(), allPages(4)));
});

const names = (list: string) => list.split(' ').map((n) => file[n] as string);

async function expectRefused(list: string, link: number, reason: ChainProblem): Promise<void> {
  const paths = names(list);
  // verify: each link checked on its own, the chain problem reported, nothing thrown.
  const report = await verify(paths);
  expect(report.ok, list).toBe(false);
  expect(report.chain, list).toBeInstanceOf(ChainError);
  expect([report.chain?.reason, report.chain?.link, report.chain?.path], list).toEqual([reason, link, paths[link]]);
  expect(report.chain?.message).toMatch(new RegExp(`^Chain link ${link} \\(.*\\) `));
  // restore: refused, memory untouched.
  const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 8 * 512 }, { name: 'io', size: 2 * 512 }] });
  memory.block('ram').bytes.fill(0x5a);
  memory.block('io').bytes.fill(0x5a);
  const error = await restore(paths, memory).catch((e: unknown) => e);
  expect(error, list).toBeInstanceOf(ChainError);
  expect((error as ChainError).reason).toBe(reason);
  expect((error as ChainError).link).toBe(link);
  expect(memory.block('ram').bytes.every((b) => b === 0x5a)).toBe(true);
  expect(memory.block('io').bytes.every((b) => b === 0x5a)).toBe(true);
}

it('passes the chain in order', async () => {
  const report = await verify(names('a b c d'));
  expect(report.ok).toBe(true);
  expect(report.chain).toBeUndefined();
  expect(report.links.map((l) => l.header?.identity?.link)).toEqual([0, 1, 2, 3]);
});

/** Every ordering of 0..n-1. */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

it('refuses every wrong order of a 4-link chain, at the first link out of place', async () => {
  const links = ['a', 'b', 'c', 'd'];
  const wrong = permutations(4).filter((p) => p.some((v, i) => v !== i));
  expect(wrong.length).toBe(23);
  for (const order of wrong) {
    const first = order.findIndex((v, i) => v !== i);
    await expectRefused(order.map((i) => links[i]).join(' '), first, first === 0 ? 'not-full-first' : 'out-of-order');
  }
});

it('names the later link an out-of-order link descends from', async () => {
  const report = await verify(names('a c b d'));
  expect(report.chain?.message).toBe(`Chain link 1 (${file.c}) is out of order: its parent is link 2 (${file.b})`);
});

it.each([
  ['a b d', 2],
  ['a c d', 1],
  ['a c', 1],
])('refuses a missing link: %s', async (list, link) => {
  await expectRefused(list, link, 'missing');
});

it.each([
  ['a b b c', 2],
  ['a a b', 1],
])('refuses a repeated link: %s', async (list, link) => {
  await expectRefused(list, link, 'repeated');
});

it('refuses a link from another chain', async () => {
  await expectRefused('a b x1', 2, 'other-chain');
  await expectRefused('x0 b', 1, 'other-chain');
});

it('refuses a full snapshot after the base', async () => {
  await expectRefused('a b full2', 2, 'not-incremental');
  await expectRefused('a x0', 1, 'not-incremental');
});

it('refuses a link whose parent is not the link before it', async () => {
  await expectRefused('a stray', 1, 'parent');
  await expectRefused('a b sibling', 2, 'parent');
  const report = await verify(names('a stray'));
  expect(report.chain?.message).toMatch(/does not follow link 0 \(.*a\.bgsnap\): expected parent [0-9a-f-]{36} and link number 1, found parent [0-9a-f-]{36} and link number 1$/);
});

it('refuses a link with another geometry', async () => {
  await expectRefused('a bBig', 1, 'geometry');
});

it('refuses a version 1 file in a chain of more than one link, and reads it alone', async () => {
  await expectRefused('v1 b', 0, 'version-1');
  await expectRefused('a v1', 1, 'version-1');
  expect((await verify([file.v1 as string])).ok).toBe(true);
});

it('refuses an incremental snapshot alone', async () => {
  await expectRefused('b', 0, 'not-full-first');
});
