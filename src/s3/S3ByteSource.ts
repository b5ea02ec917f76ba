import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { OptionError } from '../errors';
import type { OpenSource, SnapshotSource, SourceState } from '../format/ByteSource';
import { parseS3Url, s3Url, type S3Location } from './url';

/** Where an object is, and the client to reach it through. */
export interface S3ObjectOptions extends S3Location {
  /** The client the source sends its calls through (region, endpoint, credentials are its own). */
  readonly client: S3Client;
}

/**
 * An object read as a `ByteSource`: its size and ETag from a `HeadObject`
 * when it is opened, then one ranged `GetObject` per read, conditional on
 * that ETag (`If-Match`), so that every byte read is of the object opened.
 * A read of an object replaced meanwhile fails (HTTP 412).
 */
export class S3ByteSource implements OpenSource {
  private constructor(
    private readonly options: S3ObjectOptions,
    readonly opened: SourceState,
  ) {}

  /** `s3://bucket/key`. */
  get name(): string {
    return s3Url(this.options);
  }

  get size(): number {
    return this.opened.size;
  }

  /**
   * Opens the object: one `HeadObject`.
   * @throws the SDK's error (`NotFound`, an access error) when the object cannot be read.
   */
  static async open(options: S3ObjectOptions): Promise<S3ByteSource> {
    checkObject(options);
    return new S3ByteSource(options, await head(options));
  }

  state(): Promise<SourceState> {
    return head(this.options);
  }

  async read(into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    // Step 1: the range, within the object; nothing to ask for past its end.
    const end = Math.min(this.size, position + length);
    if (end <= position) return 0;
    const { client, bucket, key } = this.options;
    const answer = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${position}-${end - 1}`, IfMatch: this.opened.tag }),
    );
    // Step 2: the body's chunks, straight into `into`.
    let at = offset;
    const limit = offset + (end - position);
    for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) {
      const n = Math.min(chunk.length, limit - at);
      into.set(n === chunk.length ? chunk : chunk.subarray(0, n), at);
      at += n;
    }
    return at - offset;
  }

  async close(): Promise<void> {
    // Nothing held between reads: each is its own request.
  }
}

/**
 * The object `s3://bucket/key` as a snapshot source, for `openSnapshot`,
 * `verify` and `restore` (which take it wherever they take a path).
 * `location` is a URL or a bucket and key.
 * @throws OptionError when the URL has no bucket or no key.
 * @example
 * const report = await verify(s3Source('s3://snaps/guest.bgsnap', { client }));
 */
export function s3Source(location: string | S3Location, options: { readonly client: S3Client }): SnapshotSource {
  const where = typeof location === 'string' ? parseS3Url(location) : location;
  if (where === undefined) throw new OptionError('location', 'an s3://bucket/key URL', location);
  const object = { ...where, client: options.client };
  checkObject(object);
  return { name: s3Url(where), open: () => S3ByteSource.open(object) };
}

function checkObject(options: S3ObjectOptions): void {
  const client = options.client as unknown;
  if (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function') {
    throw new OptionError('client', 'an S3Client', client);
  }
  if (typeof options.bucket !== 'string' || options.bucket.length === 0) throw new OptionError('bucket', 'a non-empty string', options.bucket);
  if (typeof options.key !== 'string' || options.key.length === 0) throw new OptionError('key', 'a non-empty string', options.key);
}

async function head({ client, bucket, key }: S3ObjectOptions): Promise<SourceState> {
  const answer = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const size = answer.ContentLength ?? 0;
  const mtimeMs = answer.LastModified?.getTime() ?? 0;
  return { size, mtimeMs, tag: answer.ETag ?? `${size}:${mtimeMs}` };
}
