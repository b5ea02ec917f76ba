import type { Observable } from 'rxjs';
import type { PageBufferPool } from '../pool/contract';

/** What the pipeline offers a strategy for serving faults. */
export interface StrategyContext {
  /** The snapshot's page-buffer pool (empty for strategies that do not use one). */
  readonly pool: PageBufferPool;
  /**
   * Serves a fault the queue way: the page is claimed for the next free
   * credit, ahead of pending copies and the bulk pass, written straight from
   * memory (with its unsaved neighbours, up to the snapshot's
   * `faultRunBytes`) and unprotected when that write completes.
   */
  queue(page: number): void;
  /**
   * Claims the page, copies it into `buffer` and unprotects it at once; the
   * copy is queued for storage ahead of the bulk pass. `written` runs when its
   * write has completed (or never, if the snapshot ends first). When the page
   * is no longer unclaimed, nothing is copied and `written` runs at once.
   */
  copy(page: number, buffer: Uint8Array, written: () => void): void;
}

/**
 * The strategy contract: how first faults on protected pages are served.
 * `faults$` emits the global index of each page that a writer faulted on
 * while it was still unclaimed; later faults on it just wait for its save.
 * The pipeline subscribes to the result for the snapshot's life and
 * unsubscribes it at the end, which must give back whatever it holds.
 */
export interface Strategy {
  readonly name: string;
  /** Whether the pipeline should allocate `poolPages` buffers for it. */
  readonly usesPool: boolean;
  serve(faults$: Observable<number>, context: StrategyContext): Observable<never>;
}
