import { GeometryMismatchError, OptionError } from '../errors';
import type { BlockInfo } from './contract';

/** A block as a caller asks for it. */
export interface BlockSpec {
  readonly name: string;
  /** Bytes; a positive multiple of the page size. */
  readonly size: number;
}

export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 2 * 1024 * 1024;
export const DEFAULT_PAGE_SIZE = 4096;

/** Checks a page size: a power of two from 512 B to 2 MiB. */
export function checkPageSize(pageSize: unknown, option = 'pageSize'): number {
  if (
    typeof pageSize !== 'number' ||
    !Number.isInteger(pageSize) ||
    pageSize < MIN_PAGE_SIZE ||
    pageSize > MAX_PAGE_SIZE ||
    (pageSize & (pageSize - 1)) !== 0
  ) {
    throw new OptionError(option, 'a power of two from 512 to 2097152 (2 MiB)', pageSize);
  }
  return pageSize;
}

/** Checks a block list and lays the blocks out in one global page index. */
export function layoutBlocks(blocks: unknown, pageSize: number): BlockInfo[] {
  if (!Array.isArray(blocks) || blocks.length === 0) {
    throw new OptionError('blocks', 'a non-empty array of { name, size }', blocks);
  }
  const seen = new Set<string>();
  const out: BlockInfo[] = [];
  let firstPage = 0;
  blocks.forEach((spec: Partial<BlockSpec> | undefined, i) => {
    const name = spec?.name;
    if (typeof name !== 'string' || name.length === 0) {
      throw new OptionError(`blocks[${i}].name`, 'a non-empty string', name);
    }
    if (seen.has(name)) {
      throw new OptionError(`blocks[${i}].name`, 'a name no other block has', name);
    }
    seen.add(name);
    const size = spec?.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || size % pageSize !== 0) {
      throw new OptionError(`blocks[${i}].size`, `a positive multiple of the page size (${pageSize})`, size);
    }
    const pages = size / pageSize;
    out.push({ name, size, pages, firstPage });
    firstPage += pages;
  });
  return out;
}

/** The index of the block that holds global page `page` (blocks sorted by first page). */
export function blockIndexOf(blocks: readonly BlockInfo[], page: number): number {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((blocks[mid] as BlockInfo).firstPage <= page) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The first difference between a snapshot's geometry and a memory's (page
 * size, then block count, then each block's name and size, in order), or
 * `undefined` when they match: what `restore` and `restoreLive` refuse.
 */
export function geometryMismatch(
  geometry: { readonly pageSize: number; readonly blocks: readonly BlockSpec[] },
  memory: { readonly pageSize: number; readonly blocks: readonly BlockSpec[] },
): GeometryMismatchError | undefined {
  if (geometry.pageSize !== memory.pageSize) return new GeometryMismatchError('pageSize', geometry.pageSize, memory.pageSize);
  if (geometry.blocks.length !== memory.blocks.length) return new GeometryMismatchError('blocks.length', geometry.blocks.length, memory.blocks.length);
  for (let i = 0; i < geometry.blocks.length; i++) {
    const b = geometry.blocks[i] as BlockSpec;
    const m = memory.blocks[i] as BlockSpec;
    if (b.name !== m.name) return new GeometryMismatchError(`blocks[${i}].name`, b.name, m.name);
    if (b.size !== m.size) return new GeometryMismatchError(`blocks[${i}].size`, b.size, m.size);
  }
  return undefined;
}
