/** The state every snapshot must leave behind, however it ended. */
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { expect } from 'vitest';
import type { PagedMemory } from '../../src/memory/PagedMemory';
import type { PageBufferPool } from '../../src/pool/contract';
import { copyStrategy } from '../../src/strategies/copy';
import { queueStrategy } from '../../src/strategies/queue';
import type { Strategy } from '../../src/strategies/Strategy';
import { expectAllUnprotected } from '../support/invariants';
import { settle, type Writers } from './support';

/** The named strategy, delegated to unchanged, with a hold on the pool it was given. */
export function watchedStrategy(name: 'queue' | 'copy'): { strategy: Strategy; pool(): PageBufferPool | undefined } {
  const inner = name === 'copy' ? copyStrategy : queueStrategy;
  let pool: PageBufferPool | undefined;
  return {
    strategy: {
      name: inner.name,
      usesPool: inner.usesPool,
      serve: (faults$, context) => {
        pool = context.pool;
        return inner.serve(faults$, context);
      },
    },
    pool: () => pool,
  };
}

/**
 * After the snapshot's end and the sink's close: no page protected, no write
 * waiting, every pool buffer back, every file handle closed, and in the
 * directory either nothing (`complete` false) or just the finished file.
 */
export async function expectReleased(options: {
  memory: PagedMemory;
  writers: Writers | undefined;
  pool: PageBufferPool | undefined;
  openFds: ReadonlySet<number>;
  dir: string;
  path: string;
  complete: boolean;
}): Promise<void> {
  const { memory, writers, pool, openFds, dir, path, complete } = options;
  expectAllUnprotected(memory);
  // Released writes settle on the next turn; none may still wait.
  await settle();
  expect(writers?.pending ?? 0).toBe(0);
  await writers?.stop();
  expect(pool?.borrowed ?? 0).toBe(0);
  expect([...openFds]).toEqual([]);
  expect(readdirSync(dir)).toEqual(complete ? [basename(path)] : []);
}
