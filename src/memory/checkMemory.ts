import { OptionError } from '../errors';
import type { SnapshotMemory } from './contract';

/**
 * Checks that `memory` has what a snapshot reads from it: a page size, its
 * blocks, a page count and `protect` (and `createPool`, if it has one, is a
 * function). Nothing of it is called.
 * @throws OptionError naming `memory` (or the member that is wrong) and what was expected.
 */
export function checkMemory(memory: unknown): SnapshotMemory {
  if (typeof memory !== 'object' || memory === null) {
    throw new OptionError('memory', 'a SnapshotMemory (a PagedMemory, or { pageSize, blocks, pageCount, protect })', memory);
  }
  const m = memory as Partial<Record<keyof SnapshotMemory, unknown>>;
  const members: [keyof SnapshotMemory, string, boolean][] = [
    ['pageSize', 'a positive integer', Number.isSafeInteger(m.pageSize) && (m.pageSize as number) > 0],
    ['blocks', 'an array of blocks', Array.isArray(m.blocks)],
    ['pageCount', 'an integer from 0 up', Number.isSafeInteger(m.pageCount) && (m.pageCount as number) >= 0],
    ['protect', 'a function', typeof m.protect === 'function'],
    ['createPool', 'a function, or absent', m.createPool === undefined || typeof m.createPool === 'function'],
  ];
  for (const [name, expected, ok] of members) {
    if (!ok) throw new OptionError(`memory.${name}`, `${expected} (the memory is not a SnapshotMemory: a PagedMemory, or { pageSize, blocks, pageCount, protect })`, m[name]);
  }
  return memory as SnapshotMemory;
}
