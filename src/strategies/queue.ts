import { ignoreElements, tap } from 'rxjs';
import type { Strategy } from './Strategy';

/**
 * `queue`: a fault becomes a priority page request. The page is written
 * straight from memory (it cannot change while protected) and unprotected when
 * the write completes. No extra memory; the writer waits for a storage write.
 */
export const queueStrategy: Strategy = {
  name: 'queue',
  usesPool: false,
  serve: (faults$, context) =>
    faults$.pipe(
      tap((page) => context.queue(page)),
      ignoreElements(),
    ),
};
