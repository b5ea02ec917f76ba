// bgsnap/s3: the object-storage sink and source. Needs @aws-sdk/client-s3 (a
// peer dependency: the host brings its own client), so it is not in the main entry.
export { S3Sink, MAX_PARTS, MAX_PART_BYTES, MIN_PART_BYTES } from '../storage/S3Sink';
export type { S3SinkOptions, S3SinkState } from '../storage/S3Sink';
export { S3ByteSource, s3Source } from './S3ByteSource';
export type { S3ObjectOptions } from './S3ByteSource';
export { isS3Url, parseS3Url, s3Url } from './url';
export type { S3Location } from './url';
export { ObjectExistsError, ObjectSinkError } from '../errors';
