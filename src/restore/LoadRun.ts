import { Subject, type Subscriber, type Subscription } from 'rxjs';
import { FormatError } from '../errors';
import { PageState, type LoadSession } from '../memory/contract';
import { blockIndexOf, geometryMismatch } from '../memory/geometry';
import type { MemoryBlock, PagedMemory } from '../memory/PagedMemory';
import { StallRecorder } from '../metrics/StallRecorder';
import { drainByPriority, type PullSource } from '../pipeline/drainByPriority';
import { Fifo } from '../pipeline/Fifo';
import type { RestoreEvent, RestoreStats } from './events';
import type { ResolvedRestoreOptions } from './options';
import type { LoadedRun, PageSource, SourceGeometry } from './PageSource';
import type { RecordTable } from './RecordTable';

/** A record's place in the load: not asked for, queued by a fault, being read, loaded. */
const Rec = { Idle: 0, Queued: 1, Reading: 2, Done: 3 } as const;

/** One record to read, and whether a fault asked for it. */
interface Job {
  readonly record: number;
  readonly fault: boolean;
}

/**
 * One live restore, from subscribe to `done`: the geometry is checked, every
 * page marked absent (`started`), the record table read, then faults and
 * the background pass are merged by `drainByPriority`, faults first, one
 * read per credit.
 */
export class LoadRun {
  private session: LoadSession | undefined;
  private table: RecordTable | undefined;
  /** `Rec` per record. */
  private records = new Uint8Array(0);
  private readonly faultQueue = new Fifo<number>();
  /** Faults raised before the table was known: their pages. */
  private early: number[] = [];
  /** Pages waited on, with the time of their first fault. */
  private readonly waiting = new Map<number, number>();
  /** The background pass's next record. */
  private cursor = 0;
  private faultReads = 0;
  private inFlight = 0;
  /** Reads in flight that serve no fault: at most `reads − 1`, so a fault always finds a credit free. */
  private backgroundReads = 0;
  /** Pages in the batch being made (`batchWeight`), to tell an empty batch. */
  private batchPages = 0;
  private readonly wake$ = new Subject<void>();
  private readonly credits$ = new Subject<void>();
  private readonly subs: Subscription[] = [];
  private readonly reads = new Set<Subscription>();
  private readonly waits = new StallRecorder();
  private readonly subscribedAt: number;
  private startedAt = 0;
  private tableAt = 0;
  private ended = false;
  private stats = { fault: 0, background: 0, faults: 0, reads: 0, bytesRead: 0 };

  constructor(
    private readonly source: PageSource,
    private readonly memory: PagedMemory,
    private readonly options: ResolvedRestoreOptions,
    private readonly subscriber: Subscriber<RestoreEvent>,
  ) {
    this.subscribedAt = options.scheduler.now();
  }

  start(): void {
    // Step 1: the header(s), checked against the memory before anything is touched.
    this.subs.push(
      this.source.geometry().subscribe({
        next: (geometry) => this.guard(() => this.begin(geometry)),
        error: (error: unknown) => this.fail(error),
      }),
    );
  }

  /** Runs `step`; what it throws (a snapshot holding the memory, say) fails the restore. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Lets go of everything: on `done`, on an error, and on unsubscribe (a cancel). */
  teardown(): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of this.subs) s.unsubscribe();
    for (const s of this.reads) s.unsubscribe();
    this.source.close();
    this.session?.close({ reason: 'cancelled' });
  }

  private begin(geometry: SourceGeometry): void {
    const mismatch = geometryMismatch(geometry, this.memory);
    if (mismatch !== undefined) return this.fail(mismatch);
    // Step 2: every page absent, synchronously; writers may run from `started` on.
    const session = this.memory.beginLoad((page) => this.onFault(page));
    this.session = session;
    const now = this.options.scheduler.now();
    this.startedAt = now;
    this.subscriber.next({ type: 'started', at: now, openMs: now - this.subscribedAt, totalPages: this.memory.pageCount, pageSize: this.memory.pageSize });
    // Step 3: where each page is; faults queue by page until then.
    this.subs.push(
      this.source.table().subscribe({
        next: (table) => this.guard(() => this.run(table)),
        error: (error: unknown) => this.fail(error),
      }),
    );
  }

  private run(table: RecordTable): void {
    if (this.ended) return;
    const missing = table.firstMissing();
    if (missing >= 0) return this.fail(new FormatError(0, `a record holding global page ${missing}`, 'none in the snapshot'));
    this.tableAt = this.options.scheduler.now();
    this.table = table;
    this.records = new Uint8Array(table.length);
    this.subscriber.next({ type: 'indexed', at: this.tableAt, records: table.length, tableMs: this.tableAt - this.startedAt });
    for (const page of this.early) this.queue(table.recordOf(page));
    this.early = [];
    // Step 4: faults first, then the background pass, one read per credit.
    const { reads, runPages, faultRunPages, turnPages, scheduler } = this.options;
    const faults: PullSource<Job> = () => {
      for (let r = this.faultQueue.shift(); r !== undefined; r = this.faultQueue.shift()) {
        if (this.records[r] !== Rec.Queued) continue;
        this.records[r] = Rec.Reading;
        return { record: r, fault: true };
      }
      return undefined;
    };
    const background: PullSource<Job> = (room) => {
      const records = this.records;
      // A batch that holds no fault yet (room is the whole batch) keeps a credit free for faults.
      if (room === this.batchPages && reads > 1 && this.backgroundReads >= reads - 1) return undefined;
      // The next record not read yet; one whose pages newer links all hold is never read.
      while (this.cursor < records.length && (records[this.cursor] !== Rec.Idle || !this.needed(this.cursor))) {
        if (records[this.cursor] === Rec.Idle) records[this.cursor] = Rec.Done;
        this.cursor++;
      }
      const r = this.cursor;
      if (r === records.length) return undefined;
      // A record larger than the room goes only into an empty batch.
      if (table.count(r) > room && room < this.batchPages) return undefined;
      records[r] = Rec.Reading;
      return { record: r, fault: false };
    };
    const drain$ = drainByPriority<Job>({
      capacity: reads,
      credits$: this.credits$,
      wake$: this.wake$,
      sources: [faults, background],
      weight: (job) => table.count(job.record),
      batchWeight: () => (this.batchPages = this.faultsWait() ? faultRunPages : runPages),
      turnBudget: turnPages,
      turnMs: 4,
      scheduler,
      onTurn: () => this.progress(),
      onIdle: () => this.maybeDone(),
    });
    this.subs.push(drain$.subscribe((batch) => this.read(batch)));
  }

  /** Whether record `r` still has a page to load: absent, and not held by a newer record. */
  private needed(r: number): boolean {
    const table = this.table as RecordTable;
    const states = (this.session as LoadSession).states;
    for (let p = table.first(r), end = p + table.count(r); p < end; p++) {
      if (states[p] === PageState.Absent && table.recordOf(p) === r) return true;
    }
    return false;
  }

  /** Whether a fault waits: queued, or its record being read. */
  private faultsWait(): boolean {
    return this.faultQueue.length !== 0 || this.faultReads !== 0;
  }

  private onFault(page: number): void {
    if (this.ended || this.session?.states[page] !== PageState.Absent) return;
    this.stats.faults++;
    if (!this.waiting.has(page)) this.waiting.set(page, this.options.scheduler.now());
    if (this.options.detail) {
      const b = this.memory.blocks[blockIndexOf(this.memory.blocks, page)] as MemoryBlock;
      this.subscriber.next({ type: 'fault', block: b.name, page: page - b.firstPage, at: this.options.scheduler.now() });
    }
    if (this.table === undefined) this.early.push(page);
    else this.queue(this.table.recordOf(page));
  }

  /** A fault's record goes ahead of the background pass, unless it is read already. */
  private queue(record: number): void {
    if (this.records[record] !== Rec.Idle) return;
    this.records[record] = Rec.Queued;
    this.faultQueue.push(record);
    this.wake$.next();
  }

  private read(batch: Job[]): void {
    const fault = batch.some((j) => j.fault);
    const records = batch.map((j) => j.record).sort((a, b) => a - b);
    const table = this.table as RecordTable;
    this.inFlight++;
    if (fault) this.faultReads++;
    else this.backgroundReads++;
    this.stats.reads++;
    for (const r of records) this.stats.bytesRead += table.byteLength(r);
    let loaded = 0;
    let sub: Subscription | undefined;
    let finished = false;
    const done = (): void => {
      finished = true;
      if (sub !== undefined) this.reads.delete(sub);
    };
    sub = this.source.read(records).subscribe({
      next: (runs) => this.guard(() => (loaded += this.apply(runs, fault))),
      error: (error: unknown) => {
        done();
        this.fail(error);
      },
      complete: () => {
        done();
        if (this.ended) return;
        for (const r of records) this.records[r] = Rec.Done;
        this.inFlight--;
        if (fault) this.faultReads--;
        else this.backgroundReads--;
        this.subscriber.next({ type: 'loaded', records: records.length, pages: loaded, via: fault ? 'fault' : 'background', at: this.options.scheduler.now() });
        this.credits$.next();
      },
    });
    if (!finished) this.reads.add(sub);
  }

  /** Copies the pages of `runs` that are still absent and whose newest record this is; returns how many. */
  private apply(runs: readonly LoadedRun[], fault: boolean): number {
    const session = this.session as LoadSession;
    const table = this.table as RecordTable;
    const states = session.states;
    const pageSize = this.memory.pageSize;
    const now = this.options.scheduler.now();
    let loaded = 0;
    for (const run of runs) {
      const end = run.first + run.count;
      for (let p = run.first; p < end; ) {
        if (states[p] !== PageState.Absent || table.recordOf(p) !== run.record) {
          p++;
          continue;
        }
        let q = p + 1;
        while (q < end && states[q] === PageState.Absent && table.recordOf(q) === run.record) q++;
        const into = session.view(p, q - p);
        if (run.data === null) into.fill(0);
        else into.set(run.data.subarray((p - run.first) * pageSize, (q - run.first) * pageSize));
        session.loaded(p, q - p);
        if (this.waiting.size !== 0) {
          for (let w = p; w < q; w++) {
            const at = this.waiting.get(w);
            if (at === undefined) continue;
            this.waits.record(now - at);
            this.waiting.delete(w);
          }
        }
        loaded += q - p;
        p = q;
      }
    }
    if (fault) this.stats.fault += loaded;
    else this.stats.background += loaded;
    return loaded;
  }

  private loadedPages(): number {
    return this.stats.fault + this.stats.background;
  }

  private progress(): void {
    this.subscriber.next({
      type: 'progress',
      loadedPages: this.loadedPages(),
      totalPages: this.memory.pageCount,
      bytesRead: this.stats.bytesRead,
      at: this.options.scheduler.now(),
    });
  }

  private maybeDone(): void {
    if (this.ended || this.inFlight !== 0 || this.loadedPages() !== this.memory.pageCount) return;
    const now = this.options.scheduler.now();
    const stats: RestoreStats = {
      pageSize: this.memory.pageSize,
      totalPages: this.memory.pageCount,
      loaded: { fault: this.stats.fault, background: this.stats.background },
      faults: this.stats.faults,
      faultWait: this.waits.summary(),
      reads: this.stats.reads,
      bytesRead: this.stats.bytesRead,
      openMs: this.startedAt - this.subscribedAt,
      tableMs: this.tableAt - this.startedAt,
      durationMs: now - this.startedAt,
    };
    this.session?.close();
    this.progress();
    this.teardown();
    this.subscriber.next({ type: 'done', stats });
    this.subscriber.complete();
  }

  /** Fails the restore: waiting readers and writers get a LoadAbortedError with `error` as its cause, then the error is emitted. */
  private fail(error: unknown): void {
    if (this.ended) return;
    this.session?.close({ reason: 'failed', cause: error });
    this.teardown();
    this.subscriber.error(error);
  }
}

