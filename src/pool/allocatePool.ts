import type { SnapshotMemory } from '../memory/contract';
import { defaultPoolPages } from '../pipeline/options';
import type { PageBufferPool } from './contract';
import { PagePool } from './PagePool';

/**
 * The page-buffer pool of one snapshot, allocated before t0: the memory's own
 * (`createPool`, a memory shared with writer threads) or a `PagePool`.
 *
 * `poolPages` undefined asks for the default, `defaultPoolPages(pageSize)`,
 * cut down to what the memory's own pool can hold (`poolCapacity`), so that
 * every memory snapshots with no options. An explicit size is taken as given:
 * the memory or `PagePool` refuses one it cannot hold.
 *
 * @throws OptionError naming `poolPages`: above a shared pool's capacity, or
 *   more bytes than the process can allocate.
 */
export function allocatePool(memory: SnapshotMemory, poolPages: number | undefined): PageBufferPool {
  if (poolPages !== undefined) return memory.createPool?.(poolPages) ?? new PagePool(poolPages, memory.pageSize);
  const pages = Math.min(defaultPoolPages(memory.pageSize), memory.poolCapacity ?? Infinity);
  return memory.createPool?.(pages) ?? new PagePool(pages, memory.pageSize);
}
