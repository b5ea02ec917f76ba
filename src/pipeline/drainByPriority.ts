import { Observable, type SchedulerLike, type Subscription } from 'rxjs';

/**
 * A source of work that is pulled: it returns its next job, at most `room`
 * weight (it may cut a job to fit; `room` is at least 1), or `undefined` when
 * it has none now.
 */
export type PullSource<J> = (room: number) => J | undefined;

export interface DrainByPriorityConfig<J> {
  /** Batches that may be outstanding at once: the sink's credits. */
  readonly capacity: number;
  /** One emission per completed batch: a credit comes back. */
  readonly credits$: Observable<unknown>;
  /** An emission when a source may have new work (a fault was queued, a copy made). */
  readonly wake$: Observable<unknown>;
  /** The sources, highest priority first. */
  readonly sources: readonly PullSource<J>[];
  /** How much a job weighs against the batch size and the turn budget (pages, for the pipeline). */
  readonly weight: (job: J) => number;
  /**
   * Most weight in one batch, asked as each batch is made (a batch holds at
   * least one job, however heavy).
   * @default () => 1: one job per batch
   */
  readonly batchWeight?: () => number;
  /**
   * Most jobs in one batch (1 for a sink that takes one run per write).
   * @default Infinity
   */
  readonly batchJobs?: number;
  /**
   * The share of the batches' weight the last source is owed: over any run
   * of batches it gets at least `floor(lastShare × their weight)`, minus one
   * batch's rounding, whenever it has jobs, however busy the sources above
   * it are. `0` is strict priority.
   * @default 0
   */
  readonly lastShare?: number;
  /** Weight handed out in one turn before yielding to the scheduler. */
  readonly turnBudget: number;
  /**
   * Milliseconds of work, on `scheduler.now()`, in one turn before yielding:
   * a turn ends at whichever comes first, this or `turnBudget`.
   * @default Infinity
   */
  readonly turnMs?: number;
  readonly scheduler: SchedulerLike;
  /** Called at the start of every turn after a yield. */
  readonly onTurn?: () => void;
  /** Called when a credit is free but no source has a job: the moment to check for the end. */
  readonly onIdle?: () => void;
}

/**
 * Merges credits, wake-ups and pulled sources with priority. Each free
 * credit gets one batch: the sources fill it in priority order, so a queued
 * fault always goes before the bulk pass, up to `batchWeight()`; the last
 * source is first owed its `lastShare`, so it progresses however busy the
 * others are. Emits each batch (its jobs in priority order) as it is made.
 * Sources are pulled only when a credit is free, so no operator ever holds a
 * burst of pages. After `turnBudget` weight or `turnMs` of work it yields to
 * the scheduler, even when every batch completes synchronously. Never
 * completes on its own.
 */
export function drainByPriority<J>(config: DrainByPriorityConfig<J>): Observable<J[]> {
  const { capacity, credits$, wake$, sources, weight, turnBudget, scheduler, onTurn, onIdle } = config;
  const batchWeight = config.batchWeight ?? (() => 1);
  const lastShare = config.lastShare ?? 0;
  const turnMs = config.turnMs ?? Infinity;
  const batchJobs = config.batchJobs ?? Infinity;
  const last = sources.length - 1;
  return new Observable<J[]>((subscriber) => {
    // Credits not spent on a batch.
    let credits = capacity;
    // Weight handed out since the last yield.
    let spent = 0;
    // When the turn's first batch was made; reset whenever the drain waits (for
    // credits or work), since the event loop runs then anyway.
    let turnStart: number | undefined;
    // Weight the last source is owed from earlier batches (its share, not yet taken).
    let owed = 0;
    // True while the loop below runs: re-entrant calls just let it go on.
    let pumping = false;
    let resume: Subscription | undefined;

    // Whether the last `fill` found its source out of jobs.
    let dry = false;
    /** Pulls source `i` into `batch` while it has jobs, `used` is under `limit` and the batch has room; returns the weight used. */
    const fill = (batch: J[], i: number, used: number, limit: number): number => {
      const pull = sources[i] as PullSource<J>;
      dry = false;
      while (used < limit && batch.length < batchJobs) {
        const job = pull(limit - used);
        if (job === undefined) {
          dry = true;
          break;
        }
        batch.push(job);
        used += weight(job);
      }
      return used;
    };

    /** One batch for one credit, or undefined when no source has a job. */
    const makeBatch = (): J[] | undefined => {
      const size = Math.max(1, batchWeight());
      // Step 1: the last source's share of this batch, with what it is still owed.
      owed += size * lastShare;
      const reserve = last > 0 ? Math.min(size, Math.floor(owed)) : 0;
      // Step 2: the sources above it, in priority order, up to what the share leaves…
      const batch: J[] = [];
      let used = 0;
      for (let i = 0; i < last && used < size - reserve && batch.length < batchJobs; i++) used = fill(batch, i, used, size - reserve);
      // Step 3: …the last source, up to the batch size…
      const before = used;
      used = fill(batch, last, used, size);
      const took = used - before;
      // A last source with nothing now is owed nothing: the share is of the work it has.
      owed = dry && took === 0 ? 0 : Math.max(0, owed - took);
      // Step 4: …and room it left goes back to the others, in priority order.
      for (let i = 0; i < last && used < size && batch.length < batchJobs; i++) used = fill(batch, i, used, size);
      return batch.length === 0 ? undefined : batch;
    };

    const pump = (): void => {
      if (pumping || resume !== undefined) return;
      pumping = true;
      let idle = false;
      try {
        while (credits > 0 && !subscriber.closed) {
          // Step 1: out of budget or time for this turn, so let the event loop run.
          if (spent >= turnBudget || (turnStart !== undefined && scheduler.now() - turnStart >= turnMs)) {
            let ran = false;
            const action = scheduler.schedule(() => {
              ran = true;
              resume = undefined;
              spent = 0;
              turnStart = undefined;
              onTurn?.();
              pump();
            });
            // A scheduler that runs work synchronously (queueScheduler) has already begun the next turn.
            if (ran) continue;
            resume = action;
            break;
          }
          // Step 2: the free credit gets a batch from the sources.
          turnStart ??= scheduler.now();
          const batch = makeBatch();
          if (batch === undefined) {
            idle = true;
            break;
          }
          credits--;
          for (const job of batch) spent += weight(job);
          // Step 3: hand it on; a synchronous completion re-enters through credits$.
          subscriber.next(batch);
        }
      } finally {
        pumping = false;
      }
      // Waiting for a credit or for work: this turn's time ends here.
      if (resume === undefined) turnStart = undefined;
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
