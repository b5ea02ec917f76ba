/**
 * bench/s3: a 1 GiB snapshot into S3Sink on a local S3-protocol server,
 * against uploading the same bytes with the SDK alone.
 *
 * The server (@20minutes/s3rver, as in the tests) runs in a child process,
 * storing objects in a temporary folder under `--store` (/dev/shm where
 * there is one: memory, so that the disk's own noise stays out). Each round, alternating which goes
 * first:
 *   - snapshot: a 1 GiB PagedMemory (4 KiB pages, every page non-zero, no
 *     writers, storage none) into S3Sink (8 MiB parts, 4 in flight);
 *   - SDK alone: the same number of bytes as that object, from memory, in a
 *     multipart upload of 8 MiB parts with 4 UploadPart calls in flight
 *     (CreateMultipartUpload, UploadPart, CompleteMultipartUpload), each
 *     part copied first into its upload's buffer (one per upload in
 *     flight, reused), as the sink copies into its part buffers.
 * Before each run the server's earlier writes are flushed (`sync`). The
 * ratio is snapshot time ÷ SDK time per round; median (min–max). The
 * memory bound: the sink's peak part buffers against partsInFlight ×
 * partBytes, and the process's peak RSS above the memory itself.
 *
 *   npm run bench:s3                     (1 GiB, 5 rounds)
 *   npm run bench:s3 -- --gib 0.25 --rounds 3 --store /tmp
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { execSync, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { lastValueFrom } from 'rxjs';
import { PagedMemory, snapshot } from '../src';
import { S3Sink } from '../src/s3';
import { median, printTable } from './support';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : (process.env[name.toUpperCase()] ?? fallback);
}

const MiB = 1024 * 1024;
const GIB = Number(option('gib', '1'));
const ROUNDS = Number(option('rounds', '5'));
const PART_BYTES = 8 * MiB;
const PARTS_IN_FLIGHT = 4;
const BUCKET = 'bench';
/** Where the server stores objects: memory by default, so that the disk's own noise stays out of the ratio. */
const STORE = option('store', existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

async function startServer(): Promise<{ endpoint: string; stop(): void }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(__dirname, 's3', 'server.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TMPDIR: STORE },
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the S3 server exited with ${code}`)));
  });
  const { endpoint } = JSON.parse(line) as { endpoint: string };
  return { endpoint, stop: () => child.stdin.end() };
}

/** Every page non-zero: random bytes, 1 MiB at a time. */
function filledMemory(bytes: number): PagedMemory {
  const memory = new PagedMemory({ pageSize: 4096, blocks: [{ name: 'ram', size: bytes }] });
  const ram = memory.block('ram').bytes;
  for (let at = 0; at < bytes; at += MiB) randomFillSync(ram, at, Math.min(MiB, bytes - at));
  return memory;
}

/** Uploads `length` bytes of `source` (from its start) as a multipart upload, as S3Sink sends them. */
async function sdkUpload(client: S3Client, key: string, source: Uint8Array, length: number): Promise<void> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  const parts: CompletedPart[] = [];
  let next = 0;
  const count = Math.ceil(length / PART_BYTES);
  // Each of the uploads in flight has a part buffer of its own, reused, as the sink's are.
  const worker = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(PART_BYTES);
    while (next < count) {
      const n = next++;
      const start = n * PART_BYTES;
      // The part's bytes, copied; past the end of the memory (the object's framing), from its start again.
      const body = buffer.subarray(0, Math.min(PART_BYTES, length - start));
      for (let at = 0; at < body.length; ) {
        const from = (start + at) % source.length;
        const take = Math.min(body.length - at, source.length - from);
        body.set(source.subarray(from, from + take), at);
        at += take;
      }
      const answer = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: n + 1, Body: body }));
      parts[n] = { ETag: answer.ETag, PartNumber: n + 1 };
    }
  };
  await Promise.all(Array.from({ length: PARTS_IN_FLIGHT }, worker));
  await client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
}

/**
 * The server's writes of the run before reach the disk before the next run
 * starts (`sync`, then a second), so that neither pays for the other's.
 */
function settle(): void {
  execSync('sync');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

async function main(): Promise<void> {
  const server = await startServer();
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const bytes = Math.round(GIB * 1024) * MiB;
  const memory = filledMemory(bytes);
  const rssBase = process.memoryUsage().rss;
  let rssPeak = rssBase;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  console.log(`bench/s3: ${GIB} GiB, ${ROUNDS} rounds, objects in ${STORE}, parts of ${PART_BYTES / MiB} MiB, ${PARTS_IN_FLIGHT} in flight; ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.versions.node}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: (string | number)[][] = [['round', 'first', 'snapshot s', 'SDK alone s', 'ratio', 'object bytes', 'sink peak part MiB']];
  const ratios: number[] = [];
  const snapSeconds: number[] = [];
  const sdkSeconds: number[] = [];
  let peakParts = 0;
  /** The snapshot object's size: round 1 takes its snapshot first. */
  let objectBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const snapKey = `snap-${round}.bgsnap`;
    const rawKey = `raw-${round}`;
    let snap = 0;
    let sdk = 0;
    const runSnapshot = async (): Promise<void> => {
      settle();
      const sink = new S3Sink({ client, bucket: BUCKET, key: snapKey, partBytes: PART_BYTES, partsInFlight: PARTS_IN_FLIGHT });
      const start = performance.now();
      await lastValueFrom(snapshot(memory, sink));
      snap = (performance.now() - start) / 1000;
      peakParts = Math.max(peakParts, sink.peakHeldBytes);
      objectBytes = (await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: snapKey }))).ContentLength ?? 0;
    };
    const runSdk = async (): Promise<void> => {
      settle();
      const start = performance.now();
      await sdkUpload(client, rawKey, memory.block('ram').bytes, objectBytes);
      sdk = (performance.now() - start) / 1000;
    };
    if (round % 2 === 0) {
      await runSnapshot();
      await runSdk();
    } else {
      await runSdk();
      await runSnapshot();
    }
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: snapKey }));
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: rawKey }));
    ratios.push(snap / sdk);
    snapSeconds.push(snap);
    sdkSeconds.push(sdk);
    rows.push([round + 1, round % 2 === 0 ? 'snapshot' : 'SDK', snap, sdk, snap / sdk, objectBytes, peakParts / MiB]);
  }
  clearInterval(sampler);
  printTable(rows);
  const spread = (v: number[]) => `${median(v).toFixed(2)} (${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)})`;
  console.log(`\nsnapshot ${spread(snapSeconds)} s, SDK alone ${spread(sdkSeconds)} s`);
  console.log(`ratio snapshot ÷ SDK alone: median ${spread(ratios)}; goal ≤ 1.15: ${median(ratios) <= 1.15 ? 'met' : 'NOT met'}`);
  console.log(`memory: sink peak part buffers ${peakParts / MiB} MiB (bound ${(PARTS_IN_FLIGHT * PART_BYTES) / MiB} MiB); process RSS peak ${((rssPeak - rssBase) / MiB).toFixed(0)} MiB above the ${GIB} GiB memory`);
  client.destroy();
  server.stop();
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
