/**
 * A writer thread for the SQLite tests: a bank whose every transaction moves
 * money between two accounts, updates their two branches, and appends a
 * numbered row to the ledger, all in one transaction:
 *
 *   accounts (id, branch, balance, pad)   ACCOUNTS rows, OPENING each
 *   branches (id, balance)                each the sum of its accounts
 *   ledger   (seq, src, dst, amount, note) one row per transfer, seq = 1, 2, …
 *
 * so that the total is constant, each branch agrees with its accounts, each
 * account with the ledger, and the ledger holds seq rows after transfer seq.
 * It commits until `Word.Stop` is set. It publishes seq in `Word.Begun`
 * before a transfer's BEGIN; after its COMMIT returns, it records its
 * writer's completed writes in `log[seq]`, then publishes seq in
 * `Word.Committed`. A transfer that fails with SQLITE_FULL is rolled back and
 * reported (`full`); the thread then waits for the stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory } from '../../../src';
import { SQLITE_FULL } from '../../../src/sqlite/constants';
import { SqliteError } from '../../../src/sqlite/errors';
import { openSqlite } from '../../../src/sqlite/openSqlite';
import { ACCOUNTS, BRANCHES, CHECK_SQL, OPENING, Word, type BankData, type BankReply } from './protocol';

async function main(): Promise<void> {
  const data = workerData as BankData;
  const control = new Int32Array(data.control);
  const log = new Int32Array(data.log);
  const writer = attachMemory(data.handle);
  const post = (reply: BankReply): void => parentPort?.postMessage(reply);
  let seq = 0;
  if (data.resume === true) {
    // Resumed: nothing is read before the go; the open and every statement may wait on pages not loaded yet.
    post({ type: 'ready', writerId: writer.id });
    while (Atomics.load(control, Word.Go) === 0) Atomics.wait(control, Word.Go, 0, 50);
  }
  const db = await openSqlite(writer, data.layout);
  if (data.resume === true) {
    seq = Number((await db.query('SELECT coalesce(max(seq), 0) FROM ledger')).rows[0]?.[0] ?? 0);
    Atomics.store(control, Word.Committed, seq);
    Atomics.store(control, Word.Begun, seq);
    post({ type: 'resumed', seq });
  } else await db.exec(`
    BEGIN;
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, branch INTEGER NOT NULL, balance INTEGER NOT NULL, pad TEXT NOT NULL);
    CREATE TABLE branches (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
    CREATE TABLE ledger (seq INTEGER PRIMARY KEY, src INTEGER NOT NULL, dst INTEGER NOT NULL, amount INTEGER NOT NULL, note TEXT NOT NULL);
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${ACCOUNTS})
      INSERT INTO accounts SELECT i, i % ${BRANCHES}, ${OPENING}, printf('%.300c', 'a') FROM n;
    INSERT INTO branches SELECT branch, sum(balance) FROM accounts GROUP BY branch;
    COMMIT;`);
  if (data.resume !== true) {
    log[0] = writer.writes;
    post({ type: 'ready', writerId: writer.id });
  }

  // A fixed seed: the same transfers every run.
  let s = 0x2545f491;
  const random = (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const note = 'n'.repeat(data.noteBytes);
  while (Atomics.load(control, Word.Stop) === 0) {
    if (seq + 1 >= log.length) throw new Error(`the log holds ${log.length - 1} transfers`);
    const src = random(ACCOUNTS);
    const dst = (src + 1 + random(ACCOUNTS - 1)) % ACCOUNTS;
    const amount = 1 + random(50);
    Atomics.store(control, Word.Begun, seq + 1);
    try {
      // Numbers only, so the statement text is safe to build.
      await db.exec(`
        BEGIN;
        UPDATE accounts SET balance = balance - ${amount} WHERE id = ${src};
        UPDATE accounts SET balance = balance + ${amount} WHERE id = ${dst};
        UPDATE branches SET balance = balance - ${amount} WHERE id = ${src % BRANCHES};
        UPDATE branches SET balance = balance + ${amount} WHERE id = ${dst % BRANCHES};
        INSERT INTO ledger VALUES (${seq + 1}, ${src}, ${dst}, ${amount}, '${note}');
        COMMIT;`);
    } catch (error) {
      if (!(error instanceof SqliteError && error.code === SQLITE_FULL)) throw error;
      // SQLite may have rolled the transaction back itself.
      const rolledBack = db.sqlite3.get_autocommit(db.db) !== 0;
      if (!rolledBack) await db.exec('ROLLBACK');
      const check = (await db.query(CHECK_SQL)).rows[0] ?? [];
      post({ type: 'full', seq, code: error.code, rolledBack, check });
      while (Atomics.load(control, Word.Stop) === 0) Atomics.wait(control, Word.Stop, 0, 50);
      break;
    }
    seq++;
    log[seq] = writer.writes;
    Atomics.store(control, Word.Committed, seq);
  }
  await db.close();
  post({ type: 'stopped', seq, writes: writer.writes, faults: writer.faults });
  writer.detach();
}

// A failure ends the thread with an 'error' event in the parent.
void main();
