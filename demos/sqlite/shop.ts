/**
 * The SQLite workload of the live-backup demo and benchmark, shared by the
 * main thread and the thread that runs it (worker.ts): a shop whose every
 * transaction takes an order (an insert into an indexed table), moves the
 * item's stock to `sold`, adds to the customer's total, counts the order,
 * and drops the order taken `keep` orders earlier, so that the database
 * stops growing while each transaction keeps writing pages all over it.
 */
import type { MemoryHandle, WriterFaults } from 'bgsnap';
import type { SqliteLayout } from 'bgsnap/sqlite';

export const STOCK = 1_000_000;

/** How large a shop is. */
export interface ShopSize {
  readonly items: number;
  readonly customers: number;
  /** Orders kept: older ones are deleted. */
  readonly keep: number;
}

/** The tables, filled: items and customers, no orders yet. */
export function schemaSql({ items, customers }: ShopSize): string {
  return `
BEGIN;
CREATE TABLE items (id INTEGER PRIMARY KEY, stock INTEGER NOT NULL, sold INTEGER NOT NULL, name TEXT NOT NULL);
CREATE TABLE customers (id INTEGER PRIMARY KEY, bought INTEGER NOT NULL, name TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, item INTEGER NOT NULL, customer INTEGER NOT NULL, qty INTEGER NOT NULL, note TEXT NOT NULL);
CREATE INDEX orders_by_customer ON orders (customer, id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${items})
  INSERT INTO items SELECT i, ${STOCK}, 0, printf('item %d', i) FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${customers})
  INSERT INTO customers SELECT i, 0, printf('customer %d', i) FROM n;
INSERT INTO counters VALUES ('orders', 0);
COMMIT;`;
}

/** Order number `seq` (from 1), dropping order `seq − keep`: numbers only, so the text is safe to run. */
export function orderSql(seq: number, item: number, customer: number, qty: number, keep: number): string {
  return `BEGIN;
INSERT INTO orders VALUES (${seq}, ${item}, ${customer}, ${qty}, 'order ${seq} of item ${item} for customer ${customer}');
UPDATE items SET stock = stock - ${qty}, sold = sold + ${qty} WHERE id = ${item};
UPDATE customers SET bought = bought + ${qty} WHERE id = ${customer};
UPDATE counters SET value = ${seq} WHERE name = 'orders';
DELETE FROM orders WHERE id = ${seq - keep};
COMMIT;`;
}

/**
 * Checks a copy of the shop: one line, `ok|<orders taken>|<orders kept>|<least..most stock + sold of an item>|<sold − bought>`,
 * which for a sound shop of n orders reads `ok|n|min(n, keep)|STOCK..STOCK|0`.
 */
export const CHECK_SQL = `SELECT (SELECT group_concat(integrity_check) FROM pragma_integrity_check),
  (SELECT value FROM counters WHERE name = 'orders'), (SELECT count(*) FROM orders),
  (SELECT min(stock + sold) || '..' || max(stock + sold) FROM items),
  (SELECT sum(sold) FROM items) - (SELECT sum(bought) FROM customers);`;

/** What `CHECK_SQL` prints for a sound shop after `orders` orders. */
export function soundShop(orders: number, { keep }: ShopSize): string {
  return `ok|${orders}|${Math.min(orders, keep)}|${STOCK}..${STOCK}|0`;
}

/** Words of the shared `Int32Array` of control words. */
export const Word = {
  /** Non-zero: stop after the transaction under way. */
  Stop: 0,
  /** Orders committed so far. */
  Committed: 1,
  /** Non-zero: park between transactions until it is 0 again (a naive backup's pause). */
  Park: 2,
  /** Non-zero while parked. */
  Parked: 3,
} as const;
export const WORDS = 4;

/** Float64 entries per transaction in the log, at `(seq % LOG_ENTRIES) * LOG_FIELDS`. */
export const Field = {
  /** When its COMMIT returned: `performance.timeOrigin + performance.now()`, comparable across threads. */
  CommitAt: 0,
  /** From when it was due (the previous COMMIT's return, its thread being a closed loop) to its COMMIT's return, in ms. */
  LatencyMs: 1,
  /** Its longest single write to memory, in ms: a write that waits on a snapshot is a stall. */
  LongestWriteMs: 2,
} as const;
export const LOG_FIELDS = 3;
/** Transactions the log holds before it wraps around. */
export const LOG_ENTRIES = 1 << 20;

export interface ShopData {
  readonly size: ShopSize;
  readonly handle: MemoryHandle;
  readonly layout: SqliteLayout;
  /** `Int32Array` of `WORDS` words. */
  readonly control: SharedArrayBuffer;
  /** `Float64Array` of `LOG_ENTRIES × LOG_FIELDS`. */
  readonly log: SharedArrayBuffer;
}

export type ShopReply =
  | { readonly type: 'ready' }
  | { readonly type: 'stopped'; readonly orders: number; readonly faults: WriterFaults };
