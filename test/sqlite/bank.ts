/**
 * Test helpers around the bank thread (workers/bank.ts): start it on a
 * shared memory, read what it committed, and check an exported image of its
 * database with the stock sqlite3.
 */
import type { Worker } from 'node:worker_threads';
import { tap } from 'rxjs';
import type { PagedMemory } from '../../src/memory/PagedMemory';
import type { SnapshotEvent } from '../../src/pipeline/events';
import { snapshot } from '../../src/pipeline/snapshot';
import type { SqliteLayout } from '../../src/sqlite/layout';
import type { Sink } from '../../src/storage/Sink';
import { startWorker } from '../support/workers';
import { run } from '../threads/support';
import { sqlite3Cli } from './support';
import { ACCOUNTS, CHECK_SQL, OPENING, WORDS, Word, type BankReply } from './workers/protocol';

const BANK = require.resolve('./workers/bank.ts');

/**
 * A slow disk, 25 MB/s and 1 ms a write: 17 MiB of blocks take about 0.8 s,
 * long enough for thousands of transfers to commit during a snapshot. The
 * short latency keeps `copy`'s one-page writes of the ledger's new pages
 * ahead of the ledger's growth; on `hdd` (8 ms a write) they can starve the
 * bulk pass for tens of seconds.
 */
export const SLOW_DISK = { bandwidth: 25e6, latency: 1, queueDepth: 1 };

/** Transfers the log has room for. */
const LOG_ENTRIES = 1 << 21;

/** A running bank thread. */
export interface Bank {
  readonly worker: Worker;
  /** Its writer's id: its index in a snapshot's `cut`. */
  readonly writerId: number;
  /** The last transfer whose COMMIT has returned. */
  committed(): number;
  /** The last transfer begun: its COMMIT may not have returned. */
  begun(): number;
  /** The writer's completed writes once transfer `seq` had committed (0: once the tables were set up). */
  writesAt(seq: number): number;
  /** The last transfer committed within the first `writes` writes: the one an image cut there holds. */
  committedWithin(writes: number): number;
  /** The thread's next message, queued so that none is missed. */
  next(): Promise<BankReply>;
  /** Lets a resumed bank (`startBank(…, resume)`) open its database. */
  go(): void;
  /** Asks the thread to stop after its transfer under way, and waits for it. */
  stop(): Promise<Extract<BankReply, { type: 'stopped' }>>;
}

/** Starts a bank thread on `memory` and waits until its tables are set up. */
export async function startBank(memory: PagedMemory, layout: SqliteLayout, noteBytes: number, resume = false): Promise<Bank> {
  const control = new Int32Array(new SharedArrayBuffer(WORDS * 4));
  const log = new Int32Array(new SharedArrayBuffer(LOG_ENTRIES * 4));
  const worker = startWorker(BANK, { handle: memory.share(), layout, control: control.buffer, log: log.buffer, noteBytes, resume });
  const queue: BankReply[] = [];
  let waiting: { resolve: (reply: BankReply) => void; reject: (error: unknown) => void } | undefined;
  let failure: unknown;
  worker.on('message', (reply: BankReply) => {
    const w = waiting;
    waiting = undefined;
    if (w !== undefined) w.resolve(reply);
    else queue.push(reply);
  });
  const fail = (error: unknown): void => {
    failure ??= error;
    waiting?.reject(error);
    waiting = undefined;
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the bank thread exited with code ${code}`)));
  const next = (): Promise<BankReply> => {
    const queued = queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (failure !== undefined) return Promise.reject(failure);
    return new Promise((resolve, reject) => (waiting = { resolve, reject }));
  };
  const expect = async <T extends BankReply['type']>(type: T): Promise<Extract<BankReply, { type: T }>> => {
    const reply = await next();
    if (reply.type !== type) throw new Error(`expected ${type} from the bank thread, got ${JSON.stringify(reply)}`);
    return reply as Extract<BankReply, { type: T }>;
  };
  const { writerId } = await expect('ready');
  const committed = (): number => Atomics.load(control, Word.Committed);
  return {
    worker,
    writerId,
    committed,
    begun: () => Atomics.load(control, Word.Begun),
    writesAt: (seq) => log[seq] as number,
    committedWithin(writes) {
      // The log grows with seq: the last entry within `writes`, up to what has committed.
      let lo = 0;
      let hi = committed();
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((log[mid] as number) <= writes) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    },
    next,
    go() {
      Atomics.store(control, Word.Go, 1);
      Atomics.notify(control, Word.Go);
    },
    stop() {
      Atomics.store(control, Word.Stop, 1);
      Atomics.notify(control, Word.Stop);
      return expect('stopped');
    },
  };
}

/** A snapshot of a running bank, and what the bank had committed around it. */
export interface LiveSnapshot {
  /** Committed just before subscribing. */
  readonly before: number;
  /** Begun by t0, read right after `started`: the transfer under way at t0, if any. */
  readonly begunAtT0: number;
  /** Committed right after `started`. */
  readonly committedAtT0: number;
  /** Committed when the snapshot was done. */
  readonly atDone: number;
  readonly events: Awaited<ReturnType<typeof run>>;
}

/** Takes a snapshot of `memory` while `bank` runs, noting its counters before, at and after t0. */
export async function liveSnapshot(memory: PagedMemory, bank: Bank, sink: Sink, strategy: 'queue' | 'copy', incremental = false): Promise<LiveSnapshot> {
  let begunAtT0 = -1;
  let committedAtT0 = -1;
  const atT0 = (e: SnapshotEvent): void => {
    if (e.type !== 'started') return;
    begunAtT0 = bank.begun();
    committedAtT0 = bank.committed();
  };
  const before = bank.committed();
  const events = await run(snapshot(memory, sink, { strategy, incremental }).pipe(tap(atT0)));
  return { before, begunAtT0, committedAtT0, atDone: bank.committed(), events };
}

/** What `CHECK_SQL` found in a database. */
export interface BankCheck {
  readonly integrity: string;
  readonly ledgerRows: number;
  readonly lastSeq: number;
  readonly total: number;
  readonly branchTotal: number;
  /** Branches whose balance is not the sum of their accounts'. */
  readonly badBranches: number;
  /** Accounts whose balance is not the opening balance plus their ledger rows. */
  readonly badAccounts: number;
}

/** The bank's total: constant through every transfer. */
export const TOTAL = ACCOUNTS * OPENING;

/** The invariants of the database at `dbPath`, as the stock sqlite3 reads them (rolling back a hot journal first). */
export function checkBank(dbPath: string): BankCheck {
  const lines = sqlite3Cli(dbPath, CHECK_SQL);
  const [integrity = '', ...numbers] = (lines[0] ?? '').split('|');
  const [ledgerRows, lastSeq, total, branchTotal, badBranches, badAccounts] = numbers.map(Number);
  return { integrity, ledgerRows: ledgerRows ?? NaN, lastSeq: lastSeq ?? NaN, total: total ?? NaN, branchTotal: branchTotal ?? NaN, badBranches: badBranches ?? NaN, badAccounts: badAccounts ?? NaN };
}

/** What `checkBank` finds in a sound image whose last transfer is `seq`. */
export function soundBank(seq: number): BankCheck {
  return { integrity: 'ok', ledgerRows: seq, lastSeq: seq, total: TOTAL, branchTotal: TOTAL, badBranches: 0, badAccounts: 0 };
}
