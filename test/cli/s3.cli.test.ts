/**
 * The CLI with snapshots as objects, as a user runs it: the compiled CLI,
 * spawned, against a local S3-protocol server (test/support/s3.ts) named by
 * `--endpoint`, credentials from the SDK's environment variables. `run`
 * writes a compressed snapshot to `s3://…`; `verify`, `inspect` and
 * `restore` (and `sqlite-export`) read it straight from the object.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type S3Server } from '../support/s3';
import { tempDir } from '../storage/support';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const dir = tempDir('cli-s3');
const bucket = 'snaps';
let server: S3Server;

/** Runs the compiled CLI (asynchronously: the server answers from this process). */
function bgsnap(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: dir.path,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`no compiled ${cli} (test/support/buildOnce.ts builds it)`);
  server = await startS3Server();
  await server.bucket(bucket);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

const url = `s3://${bucket}/guest.bgsnap`;
const endpoint = () => ['--endpoint', server.endpoint];

describe('a compressed snapshot as an object', () => {
  beforeAll(async () => {
    const r = await bgsnap(['run', '--ram', '16MiB', '--storage', 'nvme', '--out', url, '--compress', ...endpoint(), '--json']);
    expect(r.code, r.stderr).toBe(0);
    // The report holds the verify pass of the object written.
    expect(JSON.stringify(JSON.parse(r.stdout))).toMatch(/"ok":true/);
  }, 120_000);

  it('verify reads it from the object and shows the codec and the ratio', async () => {
    const r = await bgsnap(['verify', url, ...endpoint()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ok: "${url}" is a complete snapshot: 4096 pages .*; zstd, ratio \\d+\\.\\d\\d \\(`));
  });

  it('inspect shows the codec and the ratio, in text and JSON', async () => {
    const text = await bgsnap(['inspect', url, ...endpoint()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/codec\s+zstd: \d+ of \d+ records compressed, ratio \d+\.\d\d/);
    const json = await bgsnap(['inspect', url, ...endpoint(), '--json']);
    const inspection = JSON.parse(json.stdout) as { compression: { codec: string; ratio: number; dataBytes: number; storedDataBytes: number } };
    expect(inspection.compression.codec).toBe('zstd');
    expect(inspection.compression.ratio).toBeCloseTo(inspection.compression.dataBytes / inspection.compression.storedDataBytes);
  });

  it('restore writes the raw image from the object', async () => {
    const r = await bgsnap(['restore', url, '--into', 'guest.raw', ...endpoint()]);
    expect(r.code).toBe(0);
    expect(statSync(join(dir.path, 'guest.raw')).size).toBe(16 * 1024 * 1024);
  });

  it('run refuses to replace the object without --force', async () => {
    const r = await bgsnap(['run', '--ram', '16MiB', '--storage', 'nvme', '--out', url, ...endpoint()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Refusing to overwrite s3:\/\/snaps\/guest\.bgsnap/);
  }, 120_000);
});

it('refuses a missing object and a URL without a key as usage errors', async () => {
  const missing = await bgsnap(['verify', `s3://${bucket}/nothing.bgsnap`, ...endpoint()]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/no such object: "s3:\/\/snaps\/nothing\.bgsnap"/);
  const keyless = await bgsnap(['inspect', `s3://${bucket}`, ...endpoint()]);
  expect(keyless.code).toBe(2);
  expect(keyless.stderr).toMatch(/is not an object URL, expected s3:\/\/bucket\/key/);
});

it('says how to install the SDK when it is missing', async () => {
  // A require hook that hides the SDK, as in an install without the optional peer dependency.
  const hook = join(dir.path, 'no-sdk.js');
  writeFileSync(
    hook,
    "const M = require('module'); const r = M._resolveFilename; M._resolveFilename = function (req, ...a) { " +
      "if (req.startsWith('@aws-sdk/')) throw Object.assign(new Error('Cannot find module ' + req), { code: 'MODULE_NOT_FOUND' }); return r.call(this, req, ...a); };",
  );
  const r = await bgsnap(['verify', url, ...endpoint()], { NODE_OPTIONS: `--require ${hook}` });
  expect(r.code).toBe(1);
  expect(r.stderr).toBe('error: s3:// locations need the AWS SDK for JavaScript, which is not installed: npm install @aws-sdk/client-s3\n');
  // The package's main entry loads without it; bgsnap/s3 says what is missing.
  const load = (entry: string) =>
    new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--require', hook, '-e', `try { require(${JSON.stringify(entry)}); console.log('loaded') } catch (e) { console.log(e.message) }`]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', () => resolve(out.trim()));
    });
  expect(await load(join(root, 'dist', 'index.js'))).toBe('loaded');
  expect(await load(join(root, 'dist', 's3', 'index.js'))).toMatch(/Cannot find module @aws-sdk\/client-s3/);
  // Files still work without it.
  const local = await bgsnap(['run', '--ram', '16MiB', '--storage', 'nvme', '--out', 'local.bgsnap', '--compress', 'zstd'], { NODE_OPTIONS: `--require ${hook}` });
  expect(local.code).toBe(0);
  expect(readFileSync(join(dir.path, 'local.bgsnap')).readUInt8(92)).toBe(1);
}, 120_000);

it('sqlite-export writes the database from an object', async () => {
  const { freshDatabase, fillAccounts } = await import('../sqlite/support');
  const { S3Sink } = await import('../../src/s3');
  const { snapshot } = await import('../../src/pipeline/snapshot');
  const { lastValueFrom } = await import('rxjs');
  const { memory, db } = await freshDatabase({ dbBytes: 1 << 20 });
  await fillAccounts(db, 40);
  const expected = Buffer.from(memory.block('sqlite-db').bytes.subarray(0, db.vfs.state.db.size));
  await lastValueFrom(snapshot(memory, new S3Sink({ client: server.client(), bucket, key: 'bank.bgsnap', compression: 'zstd' })));
  await db.close();
  const r = await bgsnap(['sqlite-export', `s3://${bucket}/bank.bgsnap`, 'exported', ...endpoint()]);
  expect(r.code, r.stderr).toBe(0);
  expect(Buffer.compare(readFileSync(join(dir.path, 'exported', 'db.db')), expected)).toBe(0);
});
