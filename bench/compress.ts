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
import { sqlitePages, textPages } from './content';

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
