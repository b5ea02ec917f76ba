import { FormatError } from '../errors';
import type { ByteReader } from './ByteReader';

/** A structure that starts at `at` and needs `need` bytes, cut short by the end of the file. */
export function truncated(at: number, need: number, what: string, reader: ByteReader): FormatError {
  return new FormatError(at, `${what}: ${need} bytes, to byte ${at + need}`, `the end of the file at byte ${reader.position + reader.buffered}`);
}

/** Bytes as spaced hex pairs. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A u32 as eight hex digits. */
export function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
