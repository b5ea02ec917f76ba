import { randomUUID } from 'node:crypto';
import { Subject, filter, type Subscriber, type Subscription } from 'rxjs';
import { SinkError } from '../errors';
import { PageState, isProtected, type BlockInfo, type ProtectionSession, type SnapshotMemory } from '../memory/contract';
import { blockIndexOf } from '../memory/geometry';
import { StallRecorder } from '../metrics/StallRecorder';
import type { PageBufferPool } from '../pool/contract';
import { allocatePool } from '../pool/allocatePool';
import type { StrategyContext } from '../strategies/Strategy';
import type { PageRun, SaveVia, Sink, SnapshotIdentity, SnapshotKind } from '../storage/Sink';
import { writeRunsTo } from '../storage/writeRuns';
import { BulkPass } from './bulkRuns';
import { drainByPriority } from './drainByPriority';
import type { SnapshotEvent, SnapshotStats } from './events';
import { Fifo } from './Fifo';
import type { ResolvedOptions } from './options';
import { WriteSize } from './writeSize';

/** One save handed to the sink; discriminated on how the page got there. */
type SaveJob =
  | { readonly via: 'bulk'; readonly block: number; readonly page: number; readonly count: number }
  | { readonly via: 'fault'; readonly block: number; readonly page: number; readonly count: number }
  | {
      readonly via: 'copy';
      readonly block: number;
      readonly page: number;
      readonly count: 1;
      readonly buffer: Uint8Array;
      readonly written: () => void;
    };

/**
 * One subscription to `snapshot()`: the state of one snapshot from t0 to its
 * end. The orchestration is here; what varies (faults, storage, memory) comes
 * in through the strategy, sink and memory contracts.
 */
export class SnapshotRun {
  private readonly blocks: readonly BlockInfo[];
  private readonly pageSize: number;
  private readonly pool: PageBufferPool;
  /** Writer threads' own copies on loan from the pool, returned after their write (or at teardown). */
  private readonly adopted = new Set<Uint8Array>();
  private readonly stalls = new StallRecorder();

  /** The protection session: from t0 until teardown. */
  private session: ProtectionSession | undefined;
  private states: Uint8Array = new Uint8Array(0);
  /** Pages with a waiting writer, to be written straight from memory. Highest priority. */
  private readonly faultQueue = new Fifo<number>();
  /** Copies holding pool buffers, waiting for storage. Next priority. */
  private readonly copyQueue = new Fifo<SaveJob & { via: 'copy' }>();
  /** The bulk pass, pulled run by run to fill writes. Lowest priority, with a guaranteed share. */
  private bulk: BulkPass | undefined;
  private bulkExhausted = false;
  /** The size of the next write, following the storage. */
  private writeSize: WriteSize | undefined;
  /** The size the drain asked for the batch it hands over next. */
  private batchSize = 1;
  /**
   * When the faults still waiting for each page were raised, for the stall
   * stats: the first per page, and any later ones apart, so that the common
   * case (one fault a page) allocates no array.
   */
  private readonly firstFaultAt = new Map<number, number>();
  private readonly laterFaultsAt = new Map<number, number[]>();

  private readonly raised$ = new Subject<number>();
  private readonly credits$ = new Subject<void>();
  private readonly wake$ = new Subject<void>();
  private readonly subscriptions: Subscription[] = [];

  /** This snapshot's id and place in its chain, set at t0. */
  private identity: SnapshotIdentity | undefined;
  /** Pages protected at t0: what this snapshot saves (every page, unless incremental). */
  private totalPages = 0;
  private inFlight = 0;
  private savedBy = { bulk: 0, fault: 0, copy: 0 };
  private faults = 0;
  private writes = 0;
  private t0 = 0;
  /** `running` from t0, `ending` while the sink closes, `closed` after teardown. */
  private phase: 'idle' | 'running' | 'ending' | 'closed' = 'idle';
  private succeeded = false;

  constructor(
    private readonly memory: SnapshotMemory,
    private readonly sink: Sink,
    private readonly options: ResolvedOptions,
    private readonly subscriber: Subscriber<SnapshotEvent>,
  ) {
    // Plain layouts only: sinks never get a reference to the memory's bytes.
    this.blocks = memory.blocks.map(({ name, size, pages, firstPage }) => ({ name, size, pages, firstPage }));
    this.pageSize = memory.pageSize;
    // Allocated before t0, so that writers are not held by the allocation.
    this.pool = allocatePool(memory, options.strategy.usesPool ? options.poolPages : 0);
  }

  /** Runs from subscribe; returns the teardown. */
  start(): () => void {
    const { scheduler, strategy } = this.options;

    // Step 1, t0: every page protected, or for an incremental snapshot every page written
    // since the last committed one's t0; synchronously (writer threads pause for it).
    this.session = this.memory.protect((page) => this.raised$.next(page), {
      pool: this.pool,
      onCopied: (page, buffer) => this.onCopied(page, buffer),
      incremental: this.options.incremental,
    });
    this.states = this.session.states;
    this.t0 = scheduler.now();
    this.totalPages = this.session.pages ?? this.memory.pageCount;
    const identity = chainedIdentity(this.options.id ?? randomUUID(), this.session.parent);
    this.identity = identity;
    this.phase = 'running';
    // Step 2: faults, wired before anything can write. Every one is counted and
    // timed here, whatever the strategy does with them; the first on an unclaimed
    // page goes to the strategy.
    this.subscriptions.push(this.raised$.subscribe((page) => this.onFault(page)));
    const firstFaults$ = this.raised$.pipe(filter((page) => this.states[page] === PageState.Protected));
    this.subscriptions.push(
      strategy.serve(firstFaults$, this.strategyContext()).subscribe({
        error: (error: unknown) => this.fail(error),
      }),
    );
    if (this.isClosed()) return () => undefined;

    // Step 3: the sink learns t0 and the geometry; then the host does.
    const cut = this.session.cut ?? [];
    const header = {
      pageSize: this.pageSize,
      blocks: this.blocks,
      t0: this.t0,
      wallTime: Date.now(),
      strategy: strategy.name,
      ...(cut.length !== 0 ? { cut } : {}),
      identity,
    };
    try {
      this.sink.start(header);
    } catch (error) {
      this.fail(new SinkError('start', error));
      return () => undefined;
    }
    this.subscriber.next({
      type: 'started',
      t0: this.t0,
      wallTime: header.wallTime,
      kind: kindOf(identity),
      identity,
      totalPages: this.totalPages,
      memoryPages: this.memory.pageCount,
      pageSize: this.pageSize,
      strategy: strategy.name,
      cut,
      t0PauseMs: this.session.t0PauseMs ?? 0,
      t0Redos: this.session.t0Redos ?? 0,
    });
    if (this.subscriber.closed) return () => this.cancel();

    // Step 4: credits, fault queue, pending copies and the bulk pass, merged with
    // priority into writes that carry as much as they can: the write size follows
    // the storage (cut while a fault waits), and the bulk pass has its share of each.
    this.bulk = new BulkPass(this.blocks, this.states, this.options.runPages);
    const writeSize = new WriteSize(this.options.write, this.sink.writeSize, this.pageSize, this.options.faultRunPages, this.sink.capacity);
    this.writeSize = writeSize;
    const batches = typeof this.sink.writeRuns === 'function';
    const batches$ = drainByPriority<SaveJob>({
      capacity: this.sink.capacity,
      credits$: this.credits$,
      wake$: this.wake$,
      sources: [(room) => this.nextFault(room), () => this.copyQueue.shift(), (room) => this.nextBulk(room)],
      weight: (job) => job.count,
      batchWeight: () => (this.batchSize = writeSize.next(this.faultQueue.length !== 0)),
      batchJobs: batches ? Infinity : 1,
      lastShare: this.options.write.bulkShare,
      turnBudget: this.options.turnPages,
      turnMs: this.options.write.turnMs,
      scheduler,
      onTurn: () => this.emitProgress(),
      onIdle: () => this.maybeFinish(),
    });
    this.subscriptions.push(batches$.subscribe((batch) => this.write(batch)));
    return () => this.cancel();
  }

  /** Whether the run has been torn down (a strategy may fail it while it starts). */
  private isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** Unsubscribe: tear down; nobody awaits the sink's clean-up, so a failure of it is dropped here. */
  private cancel(): void {
    const aborted = this.teardown();
    if (isPromiseLike(aborted)) aborted.then(undefined, () => undefined);
  }

  private strategyContext(): StrategyContext {
    return {
      pool: this.pool,
      queue: (page) => {
        if (Atomics.compareExchange(this.states, page, PageState.Protected, PageState.Queued) !== PageState.Protected) return;
        this.faultQueue.push(page);
        this.wake$.next();
      },
      copy: (page, buffer, written) => {
        if (this.session === undefined || !claim(this.states, page, PageState.Protected)) return written();
        this.session.copy(page, buffer);
        this.unprotect(page, 1, 'copy');
        this.copyQueue.push({ via: 'copy', block: blockIndexOf(this.blocks, page), page, count: 1, buffer, written });
        this.wake$.next();
      },
    };
  }

  private onFault(page: number): void {
    const at = this.options.scheduler.now();
    this.faults++;
    // A writer thread's report can arrive after its page was saved: no wait is left to time.
    if (!isProtected(this.states[page] as number)) this.stalls.record(0);
    else if (this.firstFaultAt.get(page) === undefined) this.firstFaultAt.set(page, at);
    else {
      const later = this.laterFaultsAt.get(page);
      if (later === undefined) this.laterFaultsAt.set(page, [at]);
      else later.push(at);
    }
    if (this.options.detail) {
      const block = this.blockOf(page);
      this.subscriber.next({ type: 'fault', block: block.name, page: page - block.firstPage, at });
    }
  }

  private nextFault(room: number): SaveJob | undefined {
    const states = this.states;
    for (let page = this.faultQueue.shift(); page !== undefined; page = this.faultQueue.shift()) {
      // Step 1: a page claimed since it was queued (a neighbour's fault write took it) is done.
      if (states[page] !== PageState.Queued) continue;
      // Step 2: claim it, and widen to unsaved neighbours in the block, forward then back,
      // up to the fault run; writer threads may claim pages too, so each claim is atomic.
      const block = blockIndexOf(this.blocks, page);
      const { firstPage, pages } = this.blocks[block] as BlockInfo;
      const limit = Math.max(1, Math.min(this.options.faultRunPages, room));
      let first = page;
      let end = page + 1;
      states[page] = PageState.Claimed;
      while (end - first < limit && end < firstPage + pages && claimUnsaved(states, end)) end++;
      while (end - first < limit && first > firstPage && claimUnsaved(states, first - 1)) first--;
      // Step 3: the run is claimed; queued faults inside it are served by this write.
      return { via: 'fault', block, page: first, count: end - first };
    }
    return undefined;
  }

  private nextBulk(room: number): SaveJob | undefined {
    if (this.bulkExhausted || this.bulk === undefined) return undefined;
    const next = this.bulk.next(room);
    if (next === undefined) {
      this.bulkExhausted = true;
      return undefined;
    }
    return { via: 'bulk', ...next };
  }

  /**
   * Hands one write to the sink: the batch's runs, in priority order (faults,
   * copies, bulk), as one `writeRuns` (or one `write` for a one-run batch);
   * its callback unprotects, returns buffers and gives the credit back.
   */
  private write(batch: readonly SaveJob[]): void {
    // What the write was given and what it holds, and when it left: for the write size.
    const size = this.batchSize;
    let pages = 0;
    for (const job of batch) pages += job.count;
    const handed = this.options.scheduler.now();
    // A write that completes before the sink's call returns has no storage time to
    // amortise: it counts as taking none, so the size grows up to the largest write.
    let handing = true;
    const runs = batch.map((job): PageRun => {
      const block = this.blocks[job.block] as BlockInfo;
      const data = job.via === 'copy' ? job.buffer : (this.session as ProtectionSession).view(job.page, job.count);
      return { block: job.block, page: job.page - block.firstPage, count: job.count, data, via: job.via };
    });
    this.inFlight++;
    this.writes++;
    let called = false;
    const done = (error?: Error | null): void => {
      if (called || this.phase !== 'running') return;
      called = true;
      this.written(batch, runs, error);
      if (this.phase !== 'running') return;
      // The sink kept up: the write size grows while no fault waits.
      const took = handing ? 0 : this.options.scheduler.now() - handed;
      this.writeSize?.completed(size, took, pages >= size, this.faultQueue.length !== 0);
      // The credit goes back; the drain finishes the snapshot when nothing is left.
      this.credits$.next();
    };
    try {
      writeRunsTo(this.sink, runs, done);
      handing = false;
    } catch (error) {
      handing = false;
      // A sink that throws instead of calling back fails the write like any other error.
      done(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private written(batch: readonly SaveJob[], runs: readonly PageRun[], error: Error | null | undefined): void {
    this.inFlight--;
    if (error) return this.fail(new SinkError('write', error));
    for (let i = 0; i < batch.length; i++) {
      const job = batch[i] as SaveJob;
      this.savedBy[job.via] += job.count;
      if (this.options.detail) {
        const name = (this.blocks[job.block] as BlockInfo).name;
        const at = this.options.scheduler.now();
        this.subscriber.next({ type: 'saved', block: name, page: (runs[i] as PageRun).page, count: job.count, via: job.via, at });
      }
      // A copied page was unprotected at its copy; its buffer goes back now.
      if (job.via === 'copy') job.written();
      else this.unprotect(job.page, job.count, job.via);
      // An unprotect can release a writer whose next write fails the snapshot.
      if (this.phase !== 'running') return;
    }
  }

  /** Unprotects pages, releasing their writers, and times the stalls of their faults. */
  private unprotect(first: number, count: number, via: SaveVia): void {
    (this.session as ProtectionSession).unprotect(first, count);
    this.released(first, count, via);
  }

  /**
   * A writer thread copied a page it faulted on into the pool and unprotected
   * it. It counts as a fault served by a copy; the copy goes to storage ahead
   * of the bulk pass and its buffer returns to the pool after its write.
   */
  private onCopied(page: number, buffer: Uint8Array): void {
    if (this.phase !== 'running') return this.pool.release(buffer);
    this.onFault(page);
    this.released(page, 1, 'copy');
    this.adopted.add(buffer);
    const written = (): void => {
      if (this.adopted.delete(buffer)) this.pool.release(buffer);
    };
    this.copyQueue.push({ via: 'copy', block: blockIndexOf(this.blocks, page), page, count: 1, buffer, written });
    this.wake$.next();
  }

  /** Pages are writable again: their faults' stalls end now. */
  private released(first: number, count: number, via: SaveVia): void {
    const now = this.options.scheduler.now();
    if (this.firstFaultAt.size !== 0) {
      for (let p = first; p < first + count; p++) {
        const at = this.firstFaultAt.get(p);
        if (at === undefined) continue;
        this.firstFaultAt.delete(p);
        this.stalls.record(now - at);
        const later = this.laterFaultsAt.get(p);
        if (later === undefined) continue;
        this.laterFaultsAt.delete(p);
        for (const t of later) this.stalls.record(now - t);
      }
    }
    if (this.options.detail) {
      const block = this.blockOf(first);
      this.subscriber.next({ type: 'unprotected', block: block.name, page: first - block.firstPage, count, via, at: now });
    }
  }

  /** When nothing is left to save and nothing is in flight, close the sink and finish. */
  private maybeFinish(): void {
    if (this.phase !== 'running' || this.inFlight !== 0 || !this.bulkExhausted) return;
    if (this.faultQueue.length !== 0 || this.copyQueue.length !== 0) return;
    // Writer threads may hold pages claimed for their own copies, not yet reported.
    if (this.savedPages() < this.totalPages) return;
    // A writer thread that wrote past t0 unseen makes the image no cut: fail before the commit.
    const broken = this.session?.confirmCut?.();
    if (broken !== undefined) return this.fail(broken);
    this.phase = 'ending';
    const ended = (error?: Error | null): void => {
      if (this.phase !== 'ending') return;
      if (error) return this.fail(new SinkError('end', error));
      this.succeeded = true;
      // Committed: the next incremental snapshot of this memory holds the changes since this t0.
      this.session?.commit?.(this.identity as SnapshotIdentity);
      this.emitProgress();
      const stats = this.stats();
      // The memory is let go before the host hears of the end, so that the next
      // snapshot can start from `done` or `complete`.
      this.teardown();
      this.subscriber.next({ type: 'done', stats });
      this.subscriber.complete();
    };
    try {
      this.sink.end(ended);
    } catch (error) {
      ended(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Pages whose writes have completed. */
  private savedPages(): number {
    return this.savedBy.bulk + this.savedBy.fault + this.savedBy.copy;
  }

  private emitProgress(): void {
    const saved = this.savedPages();
    this.subscriber.next({
      type: 'progress',
      savedPages: saved,
      saved: { ...this.savedBy },
      totalPages: this.totalPages,
      bytesWritten: saved * this.pageSize,
      poolInUse: this.pool.borrowed,
      at: this.options.scheduler.now(),
    });
  }

  private stats(): SnapshotStats {
    return {
      strategy: this.options.strategy.name,
      kind: kindOf(this.identity as SnapshotIdentity),
      identity: this.identity as SnapshotIdentity,
      pageSize: this.pageSize,
      totalPages: this.totalPages,
      memoryPages: this.memory.pageCount,
      saved: { ...this.savedBy },
      faults: this.faults,
      stall: this.stalls.summary(),
      pool: { pages: this.pool.size, peakPages: this.pool.peak, peakBytes: this.pool.peak * this.pageSize },
      writes: this.writes,
      bytesWritten: this.savedPages() * this.pageSize,
      t0: this.t0,
      t0PauseMs: this.session?.t0PauseMs ?? 0,
      t0Redos: this.session?.t0Redos ?? 0,
      cut: this.session?.cut ?? [],
      durationMs: this.options.scheduler.now() - this.t0,
    };
  }

  private blockOf(page: number): BlockInfo {
    return this.blocks[blockIndexOf(this.blocks, page)] as BlockInfo;
  }

  /**
   * Cleans up first, so that an error observer already sees every page
   * unprotected, every writer released and, when the sink's abort returns a
   * promise, its output removed and its handles closed.
   */
  private fail(error: unknown): void {
    if (this.phase === 'closed') return;
    let aborted: void | PromiseLike<void> = undefined;
    try {
      aborted = this.teardown(error);
    } finally {
      const emit = () => this.subscriber.error(error);
      if (isPromiseLike(aborted)) aborted.then(emit, emit);
      else emit();
    }
  }

  /**
   * The one way out, whatever the ending: stop pulling, return every pool
   * buffer, unprotect every page (which releases every waiting write), and
   * abort the sink unless it closed cleanly.
   */
  private teardown(reason: unknown = new Error('snapshot cancelled')): void | PromiseLike<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    for (const s of this.subscriptions) s.unsubscribe();
    this.faultQueue.clear();
    this.copyQueue.clear();
    for (const buffer of this.adopted) this.pool.release(buffer);
    this.adopted.clear();
    this.firstFaultAt.clear();
    this.laterFaultsAt.clear();
    this.session?.close();
    if (this.succeeded) return;
    try {
      return this.sink.abort(reason);
    } catch {
      // The sink could not clean up; everything of the snapshot's own is released already.
      return;
    }
  }
}

/** A new snapshot's identity: its id, and the parent's chain when it is incremental. */
function chainedIdentity(id: string, parent: SnapshotIdentity | undefined): SnapshotIdentity {
  if (parent === undefined) return { id, root: id, link: 0 };
  return { id, parent: parent.id, root: parent.root, link: parent.link + 1 };
}

function kindOf(identity: SnapshotIdentity): SnapshotKind {
  return identity.parent === undefined ? 'full' : 'incremental';
}

function isPromiseLike(value: unknown): value is PromiseLike<void> {
  return typeof (value as PromiseLike<void> | undefined)?.then === 'function';
}

/** Claims `page` if it is in state `from`; atomic, as writer threads claim pages too. */
function claim(states: Uint8Array, page: number, from: PageState): boolean {
  return Atomics.compareExchange(states, page, from, PageState.Claimed) === from;
}

/** Claims `page` if it is unsaved: protected, or queued for its fault. */
function claimUnsaved(states: Uint8Array, page: number): boolean {
  return claim(states, page, PageState.Protected) || claim(states, page, PageState.Queued);
}
