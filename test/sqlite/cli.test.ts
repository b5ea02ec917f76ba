// `bgsnap sqlite-export FILE DIR`, run in process: files written and named,
// exit 2 for usage errors with the reason and the usage, exit 1 for failures.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bgsnap } from '../cli/support/inProcess';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { runToEnd, tempDir } from '../storage/support';
import { fillAccounts, freshDatabase, sqlite3Cli } from './support';

const dir = tempDir('sqlite-cli');
const snap = dir.file('db.snap');

beforeAll(async () => {
  const { memory, db } = await freshDatabase({ dbBytes: 1 << 20 });
  await fillAccounts(db, 30);
  await db.close();
  expect((await runToEnd(snapshot(memory, new FileSink(snap)))).kind).toBe('done');
});
afterAll(() => dir.remove());

describe('bgsnap sqlite-export', () => {
  it('writes the database file into a new folder', async () => {
    const into = dir.file('out');
    const r = await bgsnap('sqlite-export', snap, into, '--name', 'backup');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^wrote ".*\/out\/backup\.db": \d+ bytes\nno transaction was writing at t0: no journal\n$/);
    expect(sqlite3Cli(`${into}/backup.db`, 'PRAGMA integrity_check; SELECT count(*) FROM accounts;')).toEqual(['ok', '30']);
  });

  it('prints JSON, and replaces files with --force only', async () => {
    const into = dir.file('json');
    const first = await bgsnap('sqlite-export', snap, into, '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ file: snap, db: { path: `${into}/db.db` } });

    const again = await bgsnap('sqlite-export', snap, into);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: Refusing to overwrite ".*\/json\/db\.db": it exists; pass --force to replace it\n$/);
    expect((await bgsnap('sqlite-export', snap, into, '--force')).code).toBe(0);
  });

  it('fails with exit 1 on a file that is not a snapshot of a database', async () => {
    const notSnap = dir.file('not.snap');
    writeFileSync(notSnap, 'hello');
    const bad = await bgsnap('sqlite-export', notSnap, dir.file('bad'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: ".*\/not\.snap" is not a valid snapshot: At byte \d+: expected .*; nothing was written to ".*\/bad"\n$/);

    const blocks = await bgsnap('sqlite-export', snap, dir.file('bad'), '--db-block', 'ram');
    expect(blocks.code).toBe(1);
    expect(blocks.stderr).toMatch(/^error: Block "ram": no such block in the snapshot/);

    // A snapshot that is not there is a usage error, named by its path.
    const missing = await bgsnap('sqlite-export', dir.file('missing.snap'), dir.file('bad'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: no such file: ".*\/missing\.snap"\n/);
    // Nothing is created for a file that cannot be exported, not even the folder.
    expect(existsSync(dir.file('bad'))).toBe(false);
  });

  it('names a damaged snapshot, and removes the folder it made and its temporary files', async () => {
    const damaged = dir.file('damaged.snap');
    const bytes = readFileSync(snap);
    const at = bytes.length - 100;
    bytes[at] = (bytes[at] as number) ^ 0xff;
    writeFileSync(damaged, bytes);
    const into = dir.file('damaged-out');
    const r = await bgsnap('sqlite-export', damaged, into);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: ".*\/damaged\.snap" is not a valid snapshot: At byte \d+: .*; nothing was written to ".*\/damaged-out"\n$/);
    expect(existsSync(into)).toBe(false);
  });

  it('exits 2 on usage errors, with the reason and the usage', async () => {
    const usage = /\nUsage: bgsnap sqlite-export \[options\] <file\.\.\.> <dir>\n/;
    const notDir = await bgsnap('sqlite-export', snap, snap);
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toMatch(/^error: argument 'dir': ".*db\.snap" is a file, expected a folder\n/);
    expect(notDir.stderr).toMatch(usage);

    const name = await bgsnap('sqlite-export', snap, dir.file('x'), '--name', 'a/b');
    expect(name.code).toBe(2);
    expect(name.stderr).toMatch(/^error: option '--name': expected a file name without a directory part, got "a\/b"\n/);

    // DIR is created, but not the folder it is in.
    const deep = await bgsnap('sqlite-export', snap, dir.file('no/such/folder'));
    expect(deep.code).toBe(2);
    expect(deep.stderr).toMatch(/^error: argument 'dir': the folder ".*\/no\/such" of ".*\/no\/such\/folder" does not exist\n/);
    expect(existsSync(dir.file('no'))).toBe(false);

    const noDir = await bgsnap('sqlite-export', snap);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/^error: missing required argument 'dir'\n/);
    expect(noDir.stderr).toMatch(usage);
  });
});
