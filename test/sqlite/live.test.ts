// While a worker thread commits bank transfers through SQLite as fast as it
// can, snapshots under both strategies, to a file and to memory, on a slow
// modelled disk. Each image, exported and opened by the stock sqlite3, is a sound
// database as of t0: integrity_check ok, the total unchanged, branches and
// ledger in agreement with the accounts, and its last transfer the last one
// committed within the writer's cut at t0, between the last committed before
// the snapshot and the last begun by t0.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { exportSqliteFiles, type SqliteExport } from '../../src/sqlite/exportFiles';
import { sqliteLayout, sqliteMemory } from '../../src/sqlite/layout';
import { FileSink } from '../../src/storage/FileSink';
import { MemorySink } from '../../src/storage/MemorySink';
import { ThrottledSink } from '../../src/storage/ThrottledSink';
import { tempDir } from '../storage/support';
import { until } from '../threads/support';
import { SLOW_DISK, checkBank, liveSnapshot, soundBank, startBank, type Bank, type LiveSnapshot } from './bank';

const dir = tempDir('sqlite-live');
afterAll(() => dir.remove());
let banks: Bank[] = [];
afterEach(async () => {
  await Promise.all(banks.map((b) => b.worker.terminate()));
  banks = [];
});

describe.each(['queue', 'copy'] as const)('SQLite in a worker thread, snapshots under %s', (strategy) => {
  it('each image is the database as of t0, while transactions keep committing', async () => {
    const layout = sqliteLayout({ dbBytes: 16 << 20, journalBytes: 1 << 20 });
    const memory = sqliteMemory(layout);
    const bank = await startBank(memory, layout, 16);
    banks.push(bank);
    await until(() => bank.committed() >= 500);

    const file = dir.file(`${strategy}.snap`);
    const toFile = await liveSnapshot(memory, bank, new ThrottledSink(new FileSink(file), { profile: SLOW_DISK }), strategy);
    const image = new MemorySink();
    const toMemory = await liveSnapshot(memory, bank, new ThrottledSink(image, { profile: SLOW_DISK }), strategy);
    const stopped = await bank.stop();

    const blocks = Object.fromEntries([layout.db, layout.journal, layout.meta].map((b) => [b.name, image.image(b.name)]));
    const shots: [string, LiveSnapshot, SqliteExport][] = [
      ['file', toFile, await exportSqliteFiles(file, dir.path, { name: `${strategy}-file` })],
      ['memory', toMemory, await exportSqliteFiles(blocks, dir.path, { name: `${strategy}-memory` })],
    ];
    for (const [sink, shot, out] of shots) {
      const { started, done } = shot.events;
      const check = checkBank(out.db.path);
      const label = `${strategy} to ${sink}: ${JSON.stringify({ ...shot, events: undefined, check, journal: out.journal !== undefined })}`;
      // Between the last transfer committed before t0 and the last begun by it…
      expect(check.lastSeq, label).toBeGreaterThanOrEqual(shot.before);
      expect(check.lastSeq, label).toBeLessThanOrEqual(shot.begunAtT0);
      // …exactly the last one committed within the writer's writes at t0, and sound.
      const cut = started.cut[bank.writerId] as number;
      expect(check, label).toEqual(soundBank(bank.committedWithin(cut)));
      // The snapshot lasted: transfers committed during it, and the writer faulted.
      expect(shot.atDone - shot.committedAtT0, label).toBeGreaterThan(10);
      expect(done.stats.faults, label).toBeGreaterThan(0);
      expect(done.stats.cut).toEqual(started.cut);
    }
    expect(stopped.faults.count).toBeGreaterThan(0);
    if (strategy === 'copy') expect(stopped.faults.selfCopied).toBeGreaterThan(0);

    // Memory holds every transfer committed, and nothing is left protected.
    const now = await exportSqliteFiles(memory, dir.path, { name: `${strategy}-now` });
    expect(now.journal).toBeUndefined();
    expect(checkBank(now.db.path)).toEqual(soundBank(stopped.seq));
    expect(memory.snapshotting).toBe(false);
  });
});
