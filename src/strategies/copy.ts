import { Observable, filter, mergeMap, type OperatorFunction } from 'rxjs';
import type { Strategy, StrategyContext } from './Strategy';

/**
 * `copy`: a fault copies the page into a buffer from the page-buffer pool and
 * unprotects it at once; the copy is written later and its buffer returns to
 * the pool when that write completes. Writers wait only for a memory copy.
 * With the pool empty, the fault is served the queue way.
 */
export const copyStrategy: Strategy = {
  name: 'copy',
  usesPool: true,
  serve: (faults$, context) =>
    faults$.pipe(
      // Step 1: no free buffer means the queue way; a fault never waits for a buffer.
      filter((page) => {
        if (context.pool.available > 0) return true;
        context.queue(page);
        return false;
      }),
      // Step 2: one inner observable per copy, alive while its buffer is lent, so
      // the concurrency bound is the pool bound and unsubscribing returns every buffer.
      copyIntoPool(context),
    ),
};

function copyIntoPool(context: StrategyContext): OperatorFunction<number, never> {
  const concurrency = Math.max(1, context.pool.size);
  return mergeMap(
    (page) =>
      new Observable<never>((subscriber) => {
        const buffer = context.pool.acquire();
        if (buffer === undefined) {
          context.queue(page);
          subscriber.complete();
          return;
        }
        context.copy(page, buffer, () => subscriber.complete());
        return () => context.pool.release(buffer);
      }),
    concurrency,
  );
}
