/**
 * `s3://bucket/key` locations. No SDK import here: the CLI tells an object
 * from a path before it loads `bgsnap/s3`.
 */

/** An object's place: its bucket and key. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

const PREFIX = 's3://';

/** Whether `text` is meant as an object (starts with `s3://`). */
export function isS3Url(text: string): boolean {
  return text.startsWith(PREFIX);
}

/**
 * The bucket and key of `s3://bucket/key` (the key may hold slashes), or
 * `undefined` when `text` is not such a URL with a bucket and a key.
 */
export function parseS3Url(text: string): S3Location | undefined {
  if (!isS3Url(text)) return undefined;
  const rest = text.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

/** `s3://bucket/key`. */
export function s3Url({ bucket, key }: S3Location): string {
  return `${PREFIX}${bucket}/${key}`;
}
