// While a worker thread commits bank transfers through SQLite as fast as it
// can: a full backup, then incremental ones of the committing database, to
// files on a slow modelled disk. Every prefix of the chain, restored and
// exported, is a sound database that holds exactly the transfers its last
// link's cut says: integrity_check ok, totals constant, ledger and accounts
// in agreement, the last transfer the last committed within the cut.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { restore, verify } from '../../src';
import { exportSqliteFiles } from '../../src/sqlite/exportFiles';
import { sqliteLayout, sqliteMemory } from '../../src/sqlite/layout';
import { FileSink } from '../../src/storage/FileSink';
import { ThrottledSink } from '../../src/storage/ThrottledSink';
import { tempDir } from '../storage/support';
import { until } from '../threads/support';
import { SLOW_DISK, checkBank, liveSnapshot, soundBank, startBank, type Bank, type LiveSnapshot } from './bank';

const dir = tempDir('sqlite-chain');
afterAll(() => dir.remove());
let banks: Bank[] = [];
afterEach(async () => {
  await Promise.all(banks.map((b) => b.worker.terminate()));
  banks = [];
});

const LINKS = 4;

describe.each(['queue', 'copy'] as const)('SQLite backups as a chain, under %s', (strategy) => {
  it('every prefix of a full and incremental backups, restored, is the database at its cut', async () => {
    const layout = sqliteLayout({ dbBytes: 16 << 20, journalBytes: 1 << 20 });
    const memory = sqliteMemory(layout);
    const bank = await startBank(memory, layout, 16);
    banks.push(bank);
    await until(() => bank.committed() >= 300);

    // Step 1: the chain, while transfers keep committing between and during the backups.
    const files: string[] = [];
    const shots: LiveSnapshot[] = [];
    for (let i = 0; i < LINKS; i++) {
      if (i > 0) {
        const at = bank.committed();
        await until(() => bank.committed() >= at + 50);
      }
      const file = dir.file(`${strategy}.${i}.bgsnap`);
      files.push(file);
      shots.push(await liveSnapshot(memory, bank, new ThrottledSink(new FileSink(file), { profile: SLOW_DISK }), strategy, i > 0));
    }
    await bank.stop();
    expect((await verify(files)).ok).toBe(true);

    // Step 2: each prefix, restored into a fresh memory and exported, holds its last link's cut.
    for (let n = 1; n <= LINKS; n++) {
      const shot = shots[n - 1] as LiveSnapshot;
      const { started, done } = shot.events;
      expect(done.stats.kind).toBe(n === 1 ? 'full' : 'incremental');
      if (n > 1) expect(done.stats.totalPages).toBeLessThan(memory.pageCount);
      const target = sqliteMemory(layout);
      await restore(files.slice(0, n), target);
      const out = await exportSqliteFiles(target, dir.path, { name: `${strategy}-${n}` });
      const check = checkBank(out.db.path);
      const label = `${strategy}, ${n} link(s): ${JSON.stringify({ ...shot, events: undefined, check, pages: done.stats.totalPages })}`;
      expect(check.lastSeq, label).toBeGreaterThanOrEqual(shot.before);
      expect(check.lastSeq, label).toBeLessThanOrEqual(shot.begunAtT0);
      const cut = started.cut[bank.writerId] as number;
      expect(check, label).toEqual(soundBank(bank.committedWithin(cut)));
    }
  });
});
