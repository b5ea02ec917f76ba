import { OptionError } from '../errors';
import type { BlockInfo } from '../memory/contract';

/** A block in a handle: its layout and the SharedArrayBuffer of its bytes. */
export interface SharedBlock extends BlockInfo {
  readonly buffer: SharedArrayBuffer;
}

/**
 * Everything a writer thread needs to attach to a `PagedMemory`: plain data
 * and SharedArrayBuffers, so it passes through `postMessage` and `workerData`
 * (structured clone shares the buffers, it does not copy them).
 */
export interface MemoryHandle {
  readonly kind: 'bgsnap.memory';
  readonly version: 1;
  readonly pageSize: number;
  readonly blocks: readonly SharedBlock[];
  /** One byte per page: `PageState`. */
  readonly states: SharedArrayBuffer;
  /** The control block (see `layout.ts`). */
  readonly control: SharedArrayBuffer;
  /** The fault ring from writers to the saver. */
  readonly ring: SharedArrayBuffer;
  /** One `Int32` state per pool slot, and the slots' bytes. */
  readonly poolSlots: SharedArrayBuffer;
  readonly poolData: SharedArrayBuffer;
}

/** Checks that `value` looks like a handle from `memory.share()`. */
export function checkHandle(value: unknown): MemoryHandle {
  const h = value as Partial<MemoryHandle> | undefined;
  const ok =
    typeof h === 'object' &&
    h !== null &&
    h.kind === 'bgsnap.memory' &&
    h.version === 1 &&
    Array.isArray(h.blocks) &&
    h.blocks.every((b) => b.buffer instanceof SharedArrayBuffer && b.buffer.byteLength === b.size) &&
    h.states instanceof SharedArrayBuffer &&
    h.control instanceof SharedArrayBuffer &&
    h.ring instanceof SharedArrayBuffer &&
    h.poolSlots instanceof SharedArrayBuffer &&
    h.poolData instanceof SharedArrayBuffer;
  if (!ok) throw new OptionError('handle', 'the value memory.share() returned', value);
  return h as MemoryHandle;
}
