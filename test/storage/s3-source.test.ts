// Snapshots read straight from an object (bgsnap/s3's s3Source) on a local
// S3-protocol server: uploaded with S3Sink, plain and compressed, then
// openSnapshot, verify, restore and random access through the page index,
// by ranged GETs; an object replaced between restore's passes is refused.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FileChangedError, openSnapshot, PagedMemory, readIndex, readRecordAt, restore, snapshot, verify } from '../../src';
import { OptionError } from '../../src/errors';
import { S3ByteSource, S3Sink, s3Source } from '../../src/s3';
import { startS3Server, type S3Server } from '../support/s3';
import { filledMemory, runToEnd } from './support';

const bucket = 'snaps';
const blocks = [
  { name: 'ram', size: 4096 * 2048 },
  { name: 'vga', size: 4096 * 64 },
];

let server: S3Server;
let client: S3Client;
let memory: PagedMemory;
beforeAll(async () => {
  server = await startS3Server();
  await server.bucket(bucket);
  client = server.client();
  memory = filledMemory(4096, blocks, 11, 0.3);
  for (const [key, compression] of [['plain.bgsnap', 'none'], ['zstd.bgsnap', 'zstd']] as const) {
    const outcome = await runToEnd(snapshot(memory, new S3Sink({ client, bucket, key, partBytes: 5 * 1024 * 1024, compression })));
    if (outcome.kind !== 'done') throw new Error(`the ${key} snapshot failed`);
  }
});
afterAll(async () => {
  await server?.stop();
});

const fresh = () => new PagedMemory({ pageSize: 4096, blocks });

it.each(['plain', 'zstd'])('verifies and restores a %s snapshot straight from the object', async (kind) => {
  const source = s3Source(`s3://${bucket}/${kind}.bgsnap`, { client });
  expect(source.name).toBe(`s3://${bucket}/${kind}.bgsnap`);
  const report = await verify(source);
  expect(report.ok).toBe(true);
  expect(report.path).toBe(source.name);
  expect(report.pages).toBe(2048 + 64);
  if (kind === 'zstd') expect(report.storedDataBytes).toBeLessThan(report.dataBytes);
  const target = fresh();
  const restored = await restore(source, target);
  expect(restored.pages).toBe(2048 + 64);
  for (const b of blocks) expect(Buffer.compare(target.block(b.name).bytes, memory.block(b.name).bytes)).toBe(0);
});

it('reads the header and records with openSnapshot, and one record through the index', async () => {
  const file = await openSnapshot(s3Source({ bucket, key: 'zstd.bgsnap' }, { client }));
  expect(file.header.codec).toBe('zstd');
  let records = 0;
  for await (const record of file.records()) if (record.count > 0) records++;
  expect(file.trailer?.records).toBe(records);

  const source = await S3ByteSource.open({ client, bucket, key: 'zstd.bgsnap' });
  const index = await readIndex(source);
  const entry = index.find(1000);
  const record = await readRecordAt(source, index.header, index.entries.offset(entry));
  // The record's pages, zero pages filled in, against memory's.
  const pages = Buffer.alloc(record.count * 4096);
  for (const span of record.spans()) if (span.data !== null) pages.set(span.data, (span.page - record.page) * 4096);
  const ram = memory.block('ram').bytes;
  expect(Buffer.compare(pages, ram.subarray(record.page * 4096, (record.page + record.count) * 4096))).toBe(0);
  expect(record.page <= 1000 && 1000 < record.page + record.count).toBe(true);
});

it('refuses an object replaced between the verify pass and the write pass, writing nothing', async () => {
  const key = 'replaced.bgsnap';
  const outcome = await runToEnd(snapshot(memory, new S3Sink({ client, bucket, key })));
  expect(outcome.kind).toBe('done');
  const source = s3Source({ bucket, key }, { client });
  let heads = 0;
  // The second HeadObject is restore's check between its passes (the first opened it): replace the object just before it.
  const spy: S3Client = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return async (command: { constructor: { name: string } }) => {
        if (command.constructor.name === 'HeadObjectCommand' && ++heads === 2) {
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from('another object') }));
        }
        return (target.send as (c: unknown) => Promise<unknown>)(command);
      };
    },
  });
  const target = fresh();
  target.block('ram').bytes.fill(0x5a);
  const error = await restore(s3Source({ bucket, key }, { client: spy }), target).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FileChangedError);
  expect((error as FileChangedError).path).toBe(source.name);
  expect((error as FileChangedError).memoryWritten).toBe(false);
  expect(target.block('ram').bytes.every((b) => b === 0x5a)).toBe(true);
});

it('refuses a URL without a bucket or a key', () => {
  expect(() => s3Source('s3://snaps', { client })).toThrow(OptionError);
  expect(() => s3Source('s3:///key', { client })).toThrow(OptionError);
  expect(() => s3Source('/tmp/file', { client })).toThrow(OptionError);
});

it('exports a SQLite database straight from a compressed object', async () => {
  const { exportSqliteFiles } = await import('../../src/sqlite/exportFiles');
  const { freshDatabase, fillAccounts } = await import('../sqlite/support');
  const { tempDir } = await import('./support');
  const out = tempDir('s3-sqlite');
  try {
    const { memory, db } = await freshDatabase({ dbBytes: 1 << 20 });
    await fillAccounts(db, 50);
    const expected = Buffer.from(memory.block('sqlite-db').bytes.subarray(0, db.vfs.state.db.size));
    const outcome = await runToEnd(snapshot(memory, new S3Sink({ client, bucket, key: 'bank.bgsnap', compression: 'zstd' })));
    expect(outcome.kind).toBe('done');
    await db.close();
    const result = await exportSqliteFiles(s3Source(`s3://${bucket}/bank.bgsnap`, { client }), out.path, { name: 'bank' });
    expect(Buffer.compare(readFileSync(result.db.path), expected)).toBe(0);
  } finally {
    out.remove();
  }
});
