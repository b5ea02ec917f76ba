/** What the SQLite tests and their bank thread (bank.ts) say to each other, and the bank's invariants. */
import type { MemoryHandle, WriterFaults } from '../../../src';
import type { SqliteLayout } from '../../../src/sqlite/layout';

/** Words of the shared `Int32Array` of control words. */
export const Word = {
  /** Non-zero: stop after the transfer under way. */
  Stop: 0,
  /** The last transfer whose COMMIT has returned. */
  Committed: 1,
  /** The last transfer begun: set before its BEGIN, so it is never behind a transfer whose writes have started. */
  Begun: 2,
  /** With `resume`: non-zero once the thread may open the database (a live restore has started). */
  Go: 3,
} as const;
export const WORDS = 4;

export const ACCOUNTS = 2000;
export const BRANCHES = 8;
export const OPENING = 1000;

export interface BankData {
  readonly handle: MemoryHandle;
  readonly layout: SqliteLayout;
  /** `Int32Array` of `WORDS` control words. */
  readonly control: SharedArrayBuffer;
  /** `Int32Array`: at index seq, the writer's completed writes once transfer seq committed (index 0: after the setup). */
  readonly log: SharedArrayBuffer;
  /** Bytes of each ledger row's note: larger notes fill the database sooner. */
  readonly noteBytes: number;
  /**
   * Resume a bank already in memory (restored, or being restored live)
   * instead of creating one: attach, answer `ready` without touching memory,
   * wait for `Word.Go`, then open it and go on from its last transfer.
   */
  readonly resume?: boolean;
}

export type BankReply =
  | { readonly type: 'ready'; readonly writerId: number }
  /** With `resume`: the database is open; `seq` is the last transfer it held. */
  | { readonly type: 'resumed'; readonly seq: number }
  | { readonly type: 'full'; readonly seq: number; readonly code: number; readonly rolledBack: boolean; readonly check: readonly unknown[] }
  | { readonly type: 'stopped'; readonly seq: number; readonly writes: number; readonly faults: WriterFaults };

/** The SQL that checks a bank's invariants: one row of `[integrity, ledger rows, last seq, total, branch total, bad branches, bad accounts]`. */
export const CHECK_SQL = `
SELECT (SELECT group_concat(integrity_check) FROM pragma_integrity_check),
       (SELECT count(*) FROM ledger), (SELECT coalesce(max(seq), 0) FROM ledger),
       (SELECT sum(balance) FROM accounts), (SELECT sum(balance) FROM branches),
       (SELECT count(*) FROM branches b WHERE balance != (SELECT sum(balance) FROM accounts a WHERE a.branch = b.id)),
       (SELECT count(*) FROM accounts a LEFT JOIN (
          SELECT id, sum(d) AS s FROM (SELECT dst AS id, amount AS d FROM ledger UNION ALL SELECT src, -amount FROM ledger) GROUP BY id
        ) l USING (id) WHERE a.balance != ${OPENING} + coalesce(l.s, 0));`;
