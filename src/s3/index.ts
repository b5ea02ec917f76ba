// bgsnap/s3: the object-storage sink. Needs @aws-sdk/client-s3 (a peer
// dependency: the host brings its own client), so it is not in the main entry.
export { S3Sink, MAX_PARTS, MAX_PART_BYTES, MIN_PART_BYTES } from '../storage/S3Sink';
export type { S3SinkOptions, S3SinkState } from '../storage/S3Sink';
export { ObjectExistsError, ObjectSinkError } from '../errors';
