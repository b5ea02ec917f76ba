/**
 * Compression codecs side by side, on one core, per 256 KiB record (the
 * format's records hold up to 256 KiB of pages).
 *
 * Content, 64 MiB in 256 KiB records, a quarter of each:
 * - sqlite: the pages of a real SQLite database (wa-sqlite, through the
 *   project's BlockVfs): an orders table with text, numbers and an index;
 * - text: JSON log lines (timestamps, ids, words from a vocabulary, numbers);
 * - random: random bytes (encrypted or already compressed data);
 * - zero: zero pages.
 * The encoder already stores zero pages without data (the zero map), so the
 * table also gives the mix without them ("nonzero").
 *
 * Each codec compresses every record, five times over; the throughput is
 * uncompressed bytes ÷ time, median (min–max). The ratio is compressed ÷
 * uncompressed bytes over all records. Each frame is decompressed once and
 * compared with its record.
 *
 * Run: npm run bench:compress [-- --runs 7]
 */
import { randomBytes } from 'node:crypto';
import { deflateSync, inflateSync, constants as zlibConstants } from 'node:zlib';
import { sqliteLayout, sqliteMemory } from '../src/sqlite/layout';
import { openSqlite } from '../src/sqlite/openSqlite';
import { randomStreams, type RandomStream } from '../src/sim/random';

const KiB = 1024;
const MiB = 1024 * KiB;
const RECORD = 256 * KiB;
const PER_KIND = 16 * MiB;

interface Candidate {
  readonly name: string;
  readonly compress: (data: Uint8Array) => Uint8Array;
  readonly decompress: (frame: Uint8Array, length: number) => Uint8Array;
}

function optional<T>(name: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch {
    console.log(`(${name} is not installed: skipped)`);
    return undefined;
  }
}

function candidates(): Candidate[] {
  const list: Candidate[] = [
    {
      name: 'zlib deflate 1 (node:zlib)',
      compress: (d) => deflateSync(d, { level: 1 }),
      decompress: (f) => inflateSync(f),
    },
    {
      name: 'zlib deflate 1, RLE strategy',
      compress: (d) => deflateSync(d, { level: 1, strategy: zlibConstants.Z_RLE }),
      decompress: (f) => inflateSync(f),
    },
  ];
  type Zstd = { compress(d: Uint8Array, p?: { compressionLevel?: number }): Buffer; decompress(f: Uint8Array): Buffer };
  const zstd = optional<Zstd>('zstd-napi');
  if (zstd !== undefined) {
    for (const level of [1, 3]) {
      list.push({ name: `zstd ${level} (zstd-napi)`, compress: (d) => zstd.compress(d, { compressionLevel: level }), decompress: (f) => zstd.decompress(f) });
    }
  }
  type Lz4 = { compressFrameSync(d: Buffer): Buffer; decompressFrameSync(f: Buffer): Buffer };
  const lz4 = optional<Lz4>('lz4-napi');
  if (lz4 !== undefined) {
    list.push({
      name: 'lz4 frame (lz4-napi)',
      compress: (d) => lz4.compressFrameSync(Buffer.from(d.buffer, d.byteOffset, d.byteLength)),
      decompress: (f) => lz4.decompressFrameSync(Buffer.from(f.buffer, f.byteOffset, f.byteLength)),
    });
  }
  return list;
}

/** Uniform numbers in [0, 1) from a seed: the simulator's seeded stream (pure-rand). */
function rng(seed: number): () => number {
  const stream = randomStreams(seed, 1)[0] as RandomStream;
  return () => stream.next();
}

const WORDS =
  'snapshot page memory writer block fault copy queue record header trailer index commit upload part bucket key order customer invoice shipped pending paid refund warehouse berlin paris tokyo lisbon error warning info debug'.split(
    ' ',
  );

function textPages(bytes: number): Uint8Array {
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

async function sqlitePages(bytes: number): Promise<Uint8Array> {
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

function records(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at + RECORD <= data.length; at += RECORD) out.push(data.subarray(at, at + RECORD));
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
  const kinds = {
    sqlite: records(await sqlitePages(PER_KIND)),
    text: records(textPages(PER_KIND)),
    random: records(randomBytes(PER_KIND)),
    zero: records(new Uint8Array(PER_KIND)),
  };
  // Interleaved, as a snapshot's records come.
  const mix: Uint8Array[] = [];
  const perKind = kinds.sqlite.length;
  for (let i = 0; i < perKind; i++) for (const list of Object.values(kinds)) mix.push(list[i] as Uint8Array);
  const nonzero = mix.filter((r) => !kinds.zero.includes(r));
  console.log(`node ${process.version}; ${mix.length} records of ${RECORD / KiB} KiB (${(mix.length * RECORD) / MiB} MiB), ${runs} runs each, one thread`);

  const rows: string[][] = [];
  for (const codec of candidates()) {
    // Warm-up, ratios and a round-trip check.
    const ratio: Record<string, number> = {};
    for (const [kind, list] of Object.entries({ ...kinds, mix, nonzero })) {
      let packed = 0;
      for (const r of list) {
        const frame = codec.compress(r);
        packed += frame.length;
        if (kind === 'mix' && Buffer.compare(codec.decompress(frame, r.length), r) !== 0) throw new Error(`${codec.name}: round trip differs`);
      }
      ratio[kind] = packed / (list.length * RECORD);
    }
    const speeds: number[] = [];
    const decodeSpeeds: number[] = [];
    const frames = mix.map((r) => codec.compress(r));
    for (let run = 0; run < runs; run++) {
      let t = process.hrtime.bigint();
      for (const r of mix) codec.compress(r);
      speeds.push((mix.length * RECORD) / MiB / (Number(process.hrtime.bigint() - t) / 1e9));
      t = process.hrtime.bigint();
      for (const f of frames) codec.decompress(f, RECORD);
      decodeSpeeds.push((mix.length * RECORD) / MiB / (Number(process.hrtime.bigint() - t) / 1e9));
    }
    const fmt = (v: number[]) => `${median(v).toFixed(0)} (${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)})`;
    rows.push([
      codec.name,
      fmt(speeds),
      fmt(decodeSpeeds),
      ...['mix', 'nonzero', 'sqlite', 'text', 'random', 'zero'].map((k) => (ratio[k] as number).toFixed(3)),
    ]);
  }
  const head = ['codec', 'compress MiB/s', 'decompress MiB/s', 'ratio mix', 'nonzero', 'sqlite', 'text', 'random', 'zero'];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`| ${head.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
