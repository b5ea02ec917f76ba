import { Observable, type SchedulerLike, type Subscription } from 'rxjs';

/** A source of work that is pulled: it returns its next job, or `undefined` when it has none now. */
export type PullSource<J> = () => J | undefined;

export interface DrainByPriorityConfig<J> {
  /** Jobs that may be outstanding at once: the sink's credits. */
  readonly capacity: number;
  /** One emission per completed job: a credit comes back. */
  readonly credits$: Observable<unknown>;
  /** An emission when a source may have new work (a fault was queued, a copy made). */
  readonly wake$: Observable<unknown>;
  /** The sources, highest priority first. */
  readonly sources: readonly PullSource<J>[];
  /** How much a job weighs against the turn budget (pages, for the pipeline). */
  readonly weight: (job: J) => number;
  /** Weight handed out in one event-loop turn before yielding to the scheduler. */
  readonly turnBudget: number;
  readonly scheduler: SchedulerLike;
  /** Called at the start of every turn after a yield. */
  readonly onTurn?: () => void;
  /** Called when a credit is free but no source has a job: the moment to check for the end. */
  readonly onIdle?: () => void;
}

/**
 * Merges credits, wake-ups and pulled sources with priority: each free credit
 * goes to the first source that has a job, so a queued fault always goes
 * before the bulk pass. Emits each job as it is taken. Sources are pulled
 * only when a credit is free, so no operator ever holds a burst of pages.
 * After `turnBudget` weight it yields to the scheduler, even when every job
 * completes synchronously. Never completes on its own.
 */
export function drainByPriority<J>(config: DrainByPriorityConfig<J>): Observable<J> {
  const { capacity, credits$, wake$, sources, weight, turnBudget, scheduler, onTurn, onIdle } = config;
  return new Observable<J>((subscriber) => {
    // Credits not spent on a job.
    let credits = capacity;
    // Weight handed out since the last yield.
    let spent = 0;
    // True while the loop below runs: re-entrant calls just let it go on.
    let pumping = false;
    let resume: Subscription | undefined;

    const pump = (): void => {
      if (pumping || resume !== undefined) return;
      pumping = true;
      let idle = false;
      try {
        while (credits > 0 && !subscriber.closed) {
          // Step 1: out of budget for this turn, so let the event loop run.
          if (spent >= turnBudget) {
            let ran = false;
            const action = scheduler.schedule(() => {
              ran = true;
              resume = undefined;
              spent = 0;
              onTurn?.();
              pump();
            });
            // A scheduler that runs work synchronously (queueScheduler) has already begun the next turn.
            if (ran) continue;
            resume = action;
            break;
          }
          // Step 2: the first source with a job gets the credit.
          let job: J | undefined;
          for (const pull of sources) {
            job = pull();
            if (job !== undefined) break;
          }
          if (job === undefined) {
            idle = true;
            break;
          }
          credits--;
          spent += weight(job);
          // Step 3: hand it on; a synchronous completion re-enters through credits$.
          subscriber.next(job);
        }
      } finally {
        pumping = false;
      }
      if (idle && !subscriber.closed) onIdle?.();
    };

    const creditSub = credits$.subscribe(() => {
      credits++;
      pump();
    });
    const wakeSub = wake$.subscribe(() => pump());
    pump();
    return () => {
      creditSub.unsubscribe();
      wakeSub.unsubscribe();
      resume?.unsubscribe();
    };
  });
}
