/**
 * Realistic page content for the compression benchmarks (bench/compress.ts,
 * bench/compressSnapshot.ts): the pages of a real SQLite database and JSON
 * log lines, both seeded, so every run compresses the same bytes.
 */
import { sqliteLayout, sqliteMemory } from '../src/sqlite/layout';
import { openSqlite } from '../src/sqlite/openSqlite';
import { randomStreams, type RandomStream } from '../src/sim/random';

const MiB = 1024 * 1024;

/** Uniform numbers in [0, 1) from a seed: the simulator's seeded stream (pure-rand). */
export function rng(seed: number): () => number {
  const stream = randomStreams(seed, 1)[0] as RandomStream;
  return () => stream.next();
}

const WORDS =
  'snapshot page memory writer block fault copy queue record header trailer index commit upload part bucket key order customer invoice shipped pending paid refund warehouse berlin paris tokyo lisbon error warning info debug'.split(
    ' ',
  );

export function textPages(bytes: number): Uint8Array {
  const random = rng(7);
  const pick = () => WORDS[(random() * WORDS.length) | 0] as string;
  const out = Buffer.alloc(bytes);
  let at = 0;
  let t = Date.UTC(2026, 0, 1);
  while (at < bytes) {
    t += (random() * 5000) | 0;
    const line =
      JSON.stringify({
        ts: new Date(t).toISOString(),
        level: pick(),
        id: (random() * 1e9) | 0,
        user: `u${(random() * 50000) | 0}`,
        msg: `${pick()} ${pick()} ${pick()} ${pick()} ${pick()}`,
        amount: Math.round(random() * 1e6) / 100,
        tags: [pick(), pick()],
      }) + '\n';
    at += out.write(line, at);
  }
  return out;
}

export async function sqlitePages(bytes: number): Promise<Uint8Array> {
  const layout = sqliteLayout({ dbBytes: bytes + 4 * MiB, pageSize: 4096 });
  const memory = sqliteMemory(layout);
  const writer = {
    write: (block: string, offset: number, data: Uint8Array) => memory.block(block).bytes.set(data, offset),
    read: (block: string, offset: number, length: number) => memory.read(block, offset, length),
  };
  const db = await openSqlite(writer, layout);
  const random = rng(11);
  const pick = () => WORDS[(random() * WORDS.length) | 0] as string;
  await db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, email TEXT, amount REAL, status TEXT, note TEXT, created INTEGER)');
  await db.exec('CREATE INDEX orders_customer ON orders (customer)');
  let id = 0;
  for (;;) {
    const pages = Number((await db.query('PRAGMA page_count')).rows[0]?.[0]);
    if (pages * 4096 >= bytes) break;
    await db.exec('BEGIN');
    for (let i = 0; i < 2000; i++) {
      const customer = `${pick()}-${(random() * 20000) | 0}`;
      await db.query('INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)', [
        ++id,
        customer,
        `${customer}@example.com`,
        Math.round(random() * 1e6) / 100,
        pick(),
        `${pick()} ${pick()} ${pick()} ${pick()} ${pick()} ${pick()}`,
        1_700_000_000 + ((random() * 1e7) | 0),
      ]);
    }
    await db.exec('COMMIT');
  }
  await db.close();
  return memory.block(layout.db.name).bytes.slice(0, bytes);
}

