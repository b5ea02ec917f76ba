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
  const expect = (ok: boolean, field: string, expected: string, received: unknown): void => {
    if (!ok) throw new OptionError(field, `${expected} (pass the value memory.share() returned)`, received);
  };
  expect(typeof h === 'object' && h !== null, 'handle', 'an object', value);
  const handle = h as Partial<MemoryHandle>;
  expect(handle.kind === 'bgsnap.memory', 'handle.kind', "'bgsnap.memory'", handle.kind);
  expect(handle.version === 1, 'handle.version', '1', handle.version);
  expect(Array.isArray(handle.blocks), 'handle.blocks', 'an array', handle.blocks);
  (handle.blocks ?? []).forEach((b, i) => {
    expect(b?.buffer instanceof SharedArrayBuffer && b.buffer.byteLength === b.size, `handle.blocks[${i}].buffer`, 'a SharedArrayBuffer of the block\'s size', b?.buffer);
  });
  for (const key of ['states', 'control', 'ring', 'poolSlots', 'poolData'] as const) {
    expect(handle[key] instanceof SharedArrayBuffer, `handle.${key}`, 'a SharedArrayBuffer', handle[key]);
  }
  return handle as MemoryHandle;
}
