// `bgsnap verify`, `inspect`, `restore`, `merge` and `sqlite-export` given a
// chain (base first), run in process: the chain checked as one, a bad chain
// named by its link with exit 1, and nothing written for it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bgsnap } from './support/inProcess';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { fillAccounts, freshDatabase, sqlite3Cli } from '../sqlite/support';
import { filledMemory, tempDir } from '../storage/support';

const dir = tempDir('chain-cli');
afterAll(() => dir.remove());

const PAGE = 1024;
const BLOCKS = [
  { name: 'ram', size: 64 * PAGE },
  { name: 'io', size: 8 * PAGE },
];
const chain = [0, 1, 2].map((i) => dir.file(`c.${i}.bgsnap`));
/** The memory's bytes at the newest link's t0, blocks one after another. */
let image: Buffer;

beforeAll(async () => {
  const memory = filledMemory(PAGE, BLOCKS, 5, 0.2);
  for (let i = 0; i < chain.length; i++) {
    if (i > 0) {
      await memory.write('ram', (10 * i) * PAGE, Uint8Array.from({ length: 3 * PAGE }, (_, k) => (k + i) & 0xff));
      await memory.write('io', i * PAGE, new Uint8Array(PAGE));
    }
    await lastValueFrom(snapshot(memory, new FileSink(chain[i] as string), { incremental: i > 0 }));
  }
  image = Buffer.concat(memory.blocks.map((b) => Buffer.from(b.bytes)));
});

describe('bgsnap verify FILE...', () => {
  it('checks each link, then the chain, in one line', async () => {
    const r = await bgsnap('verify', ...chain);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).every((l) => l.startsWith('ok: '))).toBe(true);
    expect(lines[3]).toBe(`ok: the 3 files are one chain: ${JSON.stringify(chain[0])} (full) to link 2 ${JSON.stringify(chain[2])}; restored, they give the memory at its t0`);
  });

  it('names the link that breaks the chain, exit 1, as text and JSON', async () => {
    const r = await bgsnap('verify', chain[0] as string, chain[2] as string);
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^FAIL: the 2 files are not one chain: Chain link 1 \(.*c\.2\.bgsnap\) has a link missing before it/);
    expect(r.stderr).toMatch(/^error: Chain link 1 \(.*c\.2\.bgsnap\) has a link missing before it/);
    const json = JSON.parse((await bgsnap('verify', '--json', chain[0] as string, chain[2] as string)).stdout);
    expect(json.ok).toBe(false);
    expect(json.chain.broken).toMatchObject({ link: 1, path: chain[2], reason: 'missing' });
  });
});

describe('bgsnap inspect FILE...', () => {
  it('shows kind, id, parent, root and link per file', async () => {
    const r = await bgsnap('inspect', ...chain);
    expect(r.code).toBe(0);
    const json = JSON.parse((await bgsnap('inspect', '--json', ...chain)).stdout) as { header: { kind: string; identity: { id: string; parent: string | null; root: string; link: number } } }[];
    expect(json.map((i) => [i.header.kind, i.header.identity.link])).toEqual([
      ['full', 0],
      ['incremental', 1],
      ['incremental', 2],
    ]);
    const [base, one, two] = json.map((i) => i.header.identity);
    expect(base?.parent).toBeNull();
    expect([one?.parent, one?.root, two?.parent, two?.root]).toEqual([base?.id, base?.id, one?.id, base?.id]);
    for (const identity of [base, one, two]) expect(r.stdout).toContain(identity?.id);
    expect(r.stdout).toMatch(/kind +incremental/);
    expect(r.stdout).toMatch(new RegExp(`parent +${one?.id}`));
  });
});

describe('bgsnap restore FILE... --into RAW', () => {
  it('writes the memory at the newest link\'s t0', async () => {
    const raw = dir.file('chain.raw');
    const r = await bgsnap('restore', ...chain, '--into', raw);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^restored the chain of 3 files/);
    expect(readFileSync(raw).equals(image)).toBe(true);
  });

  it('refuses a bad chain naming the link, writing nothing', async () => {
    const raw = dir.file('bad.raw');
    const r = await bgsnap('restore', chain[1] as string, chain[2] as string, '--into', raw);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Chain link 0 \(.*c\.1\.bgsnap\) is not a full snapshot/);
    expect(existsSync(raw)).toBe(false);
  });
});

describe('bgsnap merge FILE... --out FULL', () => {
  it('writes one full snapshot that verifies and restores to the chain\'s image', async () => {
    const out = dir.file('merged.bgsnap');
    const r = await bgsnap('merge', ...chain, '--out', out);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^merged 3 files into ".*merged\.bgsnap": a full snapshot \(id [0-9a-f-]{36}\), 72 pages of 1 KiB/);
    expect((await bgsnap('verify', out)).code).toBe(0);
    const raw = dir.file('merged.raw');
    expect((await bgsnap('restore', out, '--into', raw)).code).toBe(0);
    expect(readFileSync(raw).equals(image)).toBe(true);
    // An existing output is refused without --force.
    const again = await bgsnap('merge', ...chain, '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: Refusing to overwrite ".*merged\.bgsnap": it exists; pass --force to replace it\n$/);
    expect((await bgsnap('merge', ...chain, '--out', out, '--force')).code).toBe(0);
  });

  it('refuses a bad chain or a damaged link, naming it, and leaves no output', async () => {
    const out = dir.file('never.bgsnap');
    const r = await bgsnap('merge', chain[0] as string, chain[2] as string, chain[1] as string, '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Chain link 1 \(.*c\.2\.bgsnap\) is out of order/);
    const bytes = readFileSync(chain[1] as string);
    bytes[bytes.length - 200] = (bytes[bytes.length - 200] as number) ^ 1;
    const damaged = dir.file('damaged.1.bgsnap');
    writeFileSync(damaged, bytes);
    const bad = await bgsnap('merge', chain[0] as string, damaged, chain[2] as string, '--out', out);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: ".*damaged\.1\.bgsnap" is not a valid snapshot: At byte \d+: .*; nothing was written to ".*never\.bgsnap"\n$/);
    expect(existsSync(out)).toBe(false);
    // The output may not be a file of the chain.
    expect((await bgsnap('merge', ...chain, '--out', chain[0] as string, '--force')).code).toBe(2);
  });
});

describe('bgsnap sqlite-export FILE... DIR', () => {
  it('exports the database at the newest link\'s t0', async () => {
    const { memory, writer, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, 30);
    const base = dir.file('db.0.bgsnap');
    await lastValueFrom(snapshot(memory, new FileSink(base)));
    // From here the writes go through the barrier too, so that the next snapshot sees them.
    const pending: Promise<void>[] = [];
    writer.onWrite = (block, offset, data) => void pending.push(memory.write(block, offset, data.slice()));
    await db.exec('BEGIN');
    for (let i = 30; i < 45; i++) await db.query('INSERT INTO accounts VALUES (?, ?, ?)', [i, i, 'y'.repeat(300)]);
    await db.exec('COMMIT');
    await db.close();
    await Promise.all(pending);
    const link = dir.file('db.1.bgsnap');
    await lastValueFrom(snapshot(memory as PagedMemory, new FileSink(link), { incremental: true }));

    const r = await bgsnap('sqlite-export', base, link, dir.file('sql-chain'));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(sqlite3Cli(dir.file('sql-chain/db.db'), 'PRAGMA integrity_check; SELECT count(*) FROM accounts;')).toEqual(['ok', '45']);
    expect((await bgsnap('sqlite-export', base, dir.file('sql-base'))).code).toBe(0);
    expect(sqlite3Cli(dir.file('sql-base/db.db'), 'SELECT count(*) FROM accounts;')).toEqual(['30']);
    const bad = await bgsnap('sqlite-export', link, dir.file('sql-bad'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: Chain link 0 \(.*db\.1\.bgsnap\) is not a full snapshot/);
    expect(existsSync(dir.file('sql-bad'))).toBe(false);
  });
});
