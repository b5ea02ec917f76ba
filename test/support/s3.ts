/**
 * A local S3-protocol server for the tests: @20minutes/s3rver (a maintained
 * fork of s3rver, from the npm registry) on a random loopback port, storing
 * objects in a temporary directory, and an S3Client from the real SDK that
 * talks to it.
 *
 * s3rver does not implement ListMultipartUploads, AbortMultipartUpload nor
 * conditional completes (`If-None-Match: *`); `startS3Server` adds them in
 * front of its routes, on its own file store (an upload is a directory
 * under the bucket's `uploads` resource), so the tests can see that no
 * upload is left open.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('@20minutes/s3rver') as new (options: Record<string, unknown>) => S3rverApp;

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverApp {
  middleware: Middleware[];
  store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

export interface S3Server {
  readonly endpoint: string;
  readonly directory: string;
  /** A client for the server: path-style, dummy credentials, region us-east-1. */
  client(): S3Client;
  /** Creates a bucket. */
  bucket(name: string): Promise<void>;
  /** The open multipart uploads of a bucket, as the server's store holds them. */
  uploadsOnDisk(bucket: string): string[];
  stop(): Promise<void>;
}

/** Starts the server on 127.0.0.1, on a port the OS picks, in a fresh temporary directory. */
export async function startS3Server(): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'bgsnap-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false, allowMismatchedSignatures: true });
  const uploadsDir = (bucket: string) => server.store.getResourcePath(bucket, undefined, 'uploads');
  const uploadsOnDisk = (bucket: string) => (existsSync(uploadsDir(bucket)) ? readdirSync(uploadsDir(bucket)) : []);
  const missing: Middleware = async (ctx, next) => {
    const [, bucket = '', ...rest] = ctx.path.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const uploadId = typeof ctx.query.uploadId === 'string' ? ctx.query.uploadId : undefined;
    if (ctx.method === 'GET' && key === '' && 'uploads' in ctx.query) {
      // ListMultipartUploads.
      const uploads = uploadsOnDisk(bucket).map((id) => {
        const keyFile = join(uploadsDir(bucket), id, 'key');
        return { id, key: existsSync(keyFile) ? readFileSync(keyFile, 'utf8') : '' };
      });
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${bucket}</Bucket><IsTruncated>false</IsTruncated>` +
        uploads.map((u) => `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${u.id}</UploadId></Upload>`).join('') +
        '</ListMultipartUploadsResult>';
      return;
    }
    if (ctx.method === 'DELETE' && key !== '' && uploadId !== undefined) {
      // AbortMultipartUpload.
      const dir = join(uploadsDir(bucket), uploadId);
      if (!/^[0-9a-f]+$/.test(uploadId) || !existsSync(dir)) return error(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      rmSync(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (ctx.method === 'POST' && key !== '' && uploadId !== undefined && ctx.headers['if-none-match'] === '*') {
      // A conditional CompleteMultipartUpload.
      if (existsSync(server.store.getResourcePath(bucket, key, 'object'))) {
        return error(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
    }
    await next();
  };
  // Before the router (the last middleware), after the logger and the XML body builder.
  server.middleware.splice(server.middleware.length - 1, 0, missing);
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const clients: S3Client[] = [];
  const client = () => {
    const c = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    clients.push(c);
    return c;
  };
  return {
    endpoint,
    directory,
    client,
    uploadsOnDisk,
    async bucket(name) {
      const c = client();
      await c.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function error(ctx: KoaContext, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
