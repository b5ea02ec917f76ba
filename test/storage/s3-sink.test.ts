// S3Sink against a real S3-protocol server on loopback (test/support/s3.ts),
// through the real SDK: round trips under both strategies, restored from the
// downloaded object; a cancel and a failed part leave no object and no open
// upload; an existing key is refused unless `overwrite`; a corrupted object
// is refused by verify; the sink's part buffers stay within their bound.
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError, PagedMemory, restore, snapshot, verify } from '../../src';
import { ObjectExistsError, ObjectSinkError, SinkError } from '../../src/errors';
import { S3Sink } from '../../src/storage/S3Sink';
import { startS3Server, type S3Server } from '../support/s3';
import { copyBlocks } from '../support/invariants';
import { filledMemory, runToEnd, startWriters, tempDir, type Writers } from './support';

const MiB = 1024 * 1024;
const partBytes = 5 * MiB;
const bucket = 'snaps';
const blocks = [
  { name: 'ram', size: 4096 * 4096 },
  { name: 'vga', size: 4096 * 64 },
];

let server: S3Server;
const dir = tempDir('s3');
beforeAll(async () => {
  server = await startS3Server();
  await server.bucket(bucket);
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

async function download(client: S3Client, key: string, path: string): Promise<Uint8Array> {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  writeFileSync(path, bytes);
  return bytes;
}

async function exists(client: S3Client, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

/** The open multipart uploads under `key`, as ListMultipartUploads tells them. */
async function openUploads(client: S3Client, key: string): Promise<string[]> {
  const answer = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (answer.Uploads ?? []).filter((u) => u.Key === key).map((u) => `${u.Key}:${u.UploadId}`);
}

/** A client whose calls of one command run `hook` first (to delay or fail them), with the call's number from 1. */
function hookedClient(command: string, hook: (n: number) => Promise<void> | void): S3Client {
  const client = server.client();
  let n = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command) await hook(++n);
      return next(args);
    },
    { step: 'initialize', name: 'testHook' },
  );
  return client;
}

describe.each(['queue', 'copy'] as const)('strategy %s', (strategy) => {
  it('round trip: the downloaded object verifies and restores memory as it was at t0', async () => {
    const client = server.client();
    const key = `roundtrip/${strategy}.bgsnap`;
    const memory = filledMemory(4096, blocks, strategy.length);
    const sink = new S3Sink({ client, bucket, key, partBytes, partsInFlight: 2 });
    let atT0: Map<string, Uint8Array> | undefined;
    let writers: Writers | undefined;
    const outcome = await runToEnd(snapshot(memory, sink, { strategy, poolPages: 16 }), () => {
      atT0 = copyBlocks(memory);
      // Nothing is under the key before the commit.
      void exists(client, key).then((there) => expect(there).toBe(false));
      writers = startWriters(memory, 2, 3);
    });
    await writers?.stop();
    await sink.whenClosed();
    expect(outcome.kind).toBe('done');
    expect(sink.state).toBe('ended');
    expect(sink.peakHeldBytes).toBeLessThanOrEqual(2 * partBytes);

    const path = dir.file(`${strategy}.bgsnap`);
    const bytes = await download(client, key, path);
    expect(bytes.length).toBeGreaterThan(2 * partBytes);
    expect((await verify(path)).ok).toBe(true);
    const target = new PagedMemory({ pageSize: 4096, blocks });
    await restore(path, target);
    for (const b of target.blocks) expect(Buffer.compare(b.bytes, atT0?.get(b.name) as Uint8Array)).toBe(0);
    expect(await openUploads(client, key)).toEqual([]);
  });
});

it('holds at most partsInFlight × partBytes while uploads are slow, and the writes wait for them', async () => {
  let release: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (release = resolve));
  const client = hookedClient('UploadPartCommand', async () => {
    await gate;
  });
  const key = 'bounded.bgsnap';
  const sink = new S3Sink({ client, bucket, key, partBytes, partsInFlight: 2 });
  const memory = filledMemory(4096, blocks, 7);
  const run = runToEnd(snapshot(memory, sink, { strategy: 'queue', poolPages: 16 }));
  // The parts stall: the sink fills its two buffers, then holds the pipeline back.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(sink.heldBytes).toBe(2 * partBytes);
  expect(sink.state).toBe('open');
  const opened = setInterval(() => {
    release();
    gate = new Promise<void>((resolve) => (release = resolve));
  }, 20);
  const outcome = await run;
  clearInterval(opened);
  release();
  expect(outcome.kind).toBe('done');
  expect(sink.peakHeldBytes).toBe(2 * partBytes);
  expect(sink.peakHeldBytes).toBeLessThanOrEqual(sink.partsInFlight * sink.partBytes + MiB);
  expect(await exists(client, key)).toBe(true);
});

it('a cancel mid-snapshot aborts the upload: no object, no open upload', async () => {
  let calls = 0;
  let cancel: () => void = () => undefined;
  const client = hookedClient('UploadPartCommand', async (n) => {
    calls = n;
    if (n === 1) setTimeout(() => cancel(), 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
  const key = 'cancelled.bgsnap';
  const sink = new S3Sink({ client, bucket, key, partBytes, partsInFlight: 2 });
  const memory = filledMemory(4096, blocks, 11);
  const subscription = snapshot(memory, sink, { strategy: 'copy' }).subscribe({ error: () => undefined });
  cancel = () => subscription.unsubscribe();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await sink.abort(new Error('cancelled'));
  await sink.whenClosed();
  expect(calls).toBeGreaterThanOrEqual(1);
  expect(sink.state).toBe('aborted');
  expect(sink.multipartUploadId).toBeDefined();
  expect(await exists(client, key)).toBe(false);
  expect(await openUploads(client, key)).toEqual([]);
});

it('a failed part fails the snapshot with an ObjectSinkError and aborts the upload', async () => {
  const client = hookedClient('UploadPartCommand', (n) => {
    if (n === 2) throw Object.assign(new Error('connection reset by the test'), { name: 'InternalError' });
  });
  const key = 'failed-part.bgsnap';
  const sink = new S3Sink({ client, bucket, key, partBytes, partsInFlight: 2 });
  const outcome = await runToEnd(snapshot(filledMemory(4096, blocks, 13), sink, { strategy: 'queue' }));
  await sink.whenClosed();
  expect(outcome.kind).toBe('error');
  const error = (outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(SinkError);
  const cause = (error as SinkError).cause;
  expect(cause).toBeInstanceOf(ObjectSinkError);
  expect(cause).toMatchObject({ name: 'ObjectSinkError', operation: 'UploadPart', bucket, key });
  expect((cause as Error).message).toContain(`s3://${bucket}/${key}`);
  expect(await exists(client, key)).toBe(false);
  expect(await openUploads(client, key)).toEqual([]);
});

describe('an existing key', () => {
  const small = [{ name: 'ram', size: 4096 * 64 }];
  it('is refused without overwrite, and left as it was', async () => {
    const client = server.client();
    const key = 'existing.bgsnap';
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'keep me' }));
    const sink = new S3Sink({ client, bucket, key, partBytes });
    const outcome = await runToEnd(snapshot(filledMemory(4096, small, 17), sink));
    await sink.whenClosed();
    expect(outcome.kind).toBe('error');
    expect(((outcome as { error: unknown }).error as SinkError).cause).toBeInstanceOf(ObjectExistsError);
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await (answer.Body as { transformToString(): Promise<string> }).transformToString()).toBe('keep me');
    expect(await openUploads(client, key)).toEqual([]);
  });

  it('appearing just before the commit is refused by the conditional commit', async () => {
    const seen: unknown[] = [];
    const key = 'racing.bgsnap';
    // The object appears after the sink's last look (HeadObject) and before its CompleteMultipartUpload.
    const client = hookedClient('CompleteMultipartUploadCommand', async (n) => {
      if (n === 1) await server.client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first' }));
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CompleteMultipartUploadCommand') seen.push((args.input as { IfNoneMatch?: string }).IfNoneMatch);
        return next(args);
      },
      { step: 'initialize', name: 'spy' },
    );
    const sink = new S3Sink({ client, bucket, key, partBytes });
    const outcome = await runToEnd(snapshot(filledMemory(4096, small, 19), sink));
    await sink.whenClosed();
    expect(outcome.kind).toBe('error');
    expect(((outcome as { error: unknown }).error as SinkError).cause).toBeInstanceOf(ObjectExistsError);
    expect(await openUploads(client, key)).toEqual([]);

    // With overwrite, the same key is replaced; the commit is then unconditional.
    const again = new S3Sink({ client, bucket, key, partBytes, overwrite: true });
    expect((await runToEnd(snapshot(filledMemory(4096, small, 19), again))).kind).toBe('done');
    expect(seen).toEqual(['*', undefined]);
    const path = dir.file('racing.bgsnap');
    await download(client, key, path);
    expect((await verify(path)).ok).toBe(true);
  });
});

it('a corrupted object is refused by verify', async () => {
  const client = server.client();
  const key = 'corrupt.bgsnap';
  const sink = new S3Sink({ client, bucket, key, partBytes });
  expect((await runToEnd(snapshot(filledMemory(4096, blocks, 23), sink))).kind).toBe('done');
  const path = dir.file('corrupt.bgsnap');
  const bytes = Buffer.from(await download(client, key, path));
  // One flipped bit, in a part after the first, put back in the store.
  const at = partBytes + 12345;
  bytes[at] = (bytes[at] as number) ^ 0x10;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  await download(client, key, path);
  const report = await verify(path);
  expect(report.ok).toBe(false);
});

it('refuses bad options with a named OptionError', () => {
  const client = server.client();
  const bad: [string, Record<string, unknown>][] = [
    ['client', { client: {} }],
    ['bucket', { bucket: '' }],
    ['key', { key: 7 }],
    ['partBytes', { partBytes: 5 * MiB - 1 }],
    ['partBytes', { partBytes: 1.5 * 5 * MiB + 0.5 }],
    ['partsInFlight', { partsInFlight: 0 }],
    ['overwrite', { overwrite: 'yes' }],
    ['capacity', { capacity: 0 }],
  ];
  for (const [option, override] of bad) {
    const make = () => new S3Sink({ client, bucket, key: 'k', ...override } as never);
    expect(make).toThrow(OptionError);
    expect(make).toThrow(expect.objectContaining({ option }));
  }
});
