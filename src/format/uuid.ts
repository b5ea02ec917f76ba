import { ID_BYTES } from './layout';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of a UUID's text (`8-4-4-4-12` hex digits, bytes in order), or `undefined` when it is not one. */
export function uuidToBytes(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !UUID.test(text)) return undefined;
  return Uint8Array.from(Buffer.from(text.replace(/-/g, ''), 'hex'));
}

/** A UUID's text, in lowercase, from its 16 bytes. */
export function bytesToUuid(bytes: Uint8Array): string {
  if (bytes.length !== ID_BYTES) throw new RangeError(`An id is ${ID_BYTES} bytes, not ${bytes.length}`);
  const h = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Whether all 16 bytes are zero: the id that means "none". */
export function isNoId(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** Whether `id` can be a snapshot's id: a UUID in lowercase hex, not all zero. */
export function isSnapshotId(id: unknown): id is string {
  if (typeof id !== 'string' || id !== id.toLowerCase()) return false;
  const bytes = uuidToBytes(id);
  return bytes !== undefined && !isNoId(bytes);
}
