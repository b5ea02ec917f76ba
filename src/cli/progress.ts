import { SingleBar } from 'cli-progress';
import { defer, finalize, tap, type MonoTypeOperatorFunction } from 'rxjs';
import type { ProgressEvent, SnapshotEvent } from '../pipeline/events';
import { formatBytes, formatDuration } from '../sim/format';

/** An output for progress: a TTY gets a bar, anything else plain lines. */
export interface ProgressStream extends NodeJS.WritableStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressReporterOptions {
  /**
   * Where the progress goes; standard error keeps standard output for the report.
   * @default process.stderr
   */
  readonly stream?: ProgressStream;
  /**
   * `bar`: a `cli-progress` bar, redrawn in place. `lines`: plain lines, no
   * terminal control codes, for logs and pipes.
   * @default 'bar' when the stream is a TTY, else 'lines'
   */
  readonly mode?: 'bar' | 'lines';
  /**
   * With `lines`: at most one line per this many milliseconds of the
   * snapshot's clock (the events' `at`). The last state is always written.
   * @default 1000
   */
  readonly intervalMs?: number;
  /**
   * The word in front of the bar or each line.
   * @default 'snapshot'
   */
  readonly label?: string;
  /**
   * With `bar`: the width the bar's line fits in.
   * @default the stream's `columns`, or 80
   */
  readonly columns?: number;
}

/** A field of the bar's line: its text, and how much it matters (fields are dropped from the least useful up). */
interface Field {
  readonly text: string;
  readonly rank: number;
}

/** The narrowest and widest bar drawn, in characters. */
const BAR_MIN = 10;
const BAR_MAX = 24;
/** How much the bar matters among the fields: after the elapsed time, ETA and pages, before the rest. */
const BAR_RANK = 1.5;

/**
 * The bar's line fitted into `width` characters: `head` (the label and
 * percentage), then a bar 10 to 24 characters wide where it fits, then the
 * `fields` in the order given, separated by ` | `. What does not fit is left
 * out from the highest `rank` (least useful) down, the bar at rank 1.5;
 * `bar(n)` draws the bar `n` characters wide, its brackets included. The head alone is cut to `width`.
 */
export function fitLine(head: string, fields: readonly Field[], bar: (size: number) => string, width: number): string {
  const line = (kept: readonly Field[], size: number): string =>
    [size > 0 ? `${head} ${bar(size)}` : head, ...kept.map((f) => f.text)].join(' | ');
  const limits = [...new Set([...fields.map((f) => f.rank), BAR_RANK])].sort((a, b) => b - a);
  for (const limit of limits) {
    const kept = fields.filter((f) => f.rank <= limit);
    const bare = line(kept, 0);
    if (BAR_RANK <= limit) {
      const room = width - bare.length - 1;
      if (room >= BAR_MIN) return line(kept, Math.min(BAR_MAX, room));
    } else if (bare.length <= width) {
      return bare;
    }
  }
  return head.slice(0, width);
}

/**
 * Shows a snapshot's progress from its events: `started` gives t0,
 * each `progress` the pages saved (bulk, fault, copy), bytes written and
 * pool pages in use, and `done` ends the output. On a TTY it draws a
 * `cli-progress` bar; otherwise it writes a plain line now and then
 * (`intervalMs`) and always the last state.
 * @example
 * const progress = new ProgressReporter();
 * snapshot(memory, sink).subscribe({ next: (e) => progress.next(e), complete: () => progress.stop(), error: () => progress.stop() });
 */
export class ProgressReporter {
  private readonly stream: ProgressStream;
  private readonly mode: 'bar' | 'lines';
  private readonly intervalMs: number;
  private readonly label: string;
  private readonly columns: number;
  private bar: SingleBar | undefined;
  private t0: number | undefined;
  /** The latest progress, and the one last written as a line. */
  private latest: ProgressEvent | undefined;
  private written: ProgressEvent | undefined;
  private stopped = false;

  constructor(options: ProgressReporterOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.mode = options.mode ?? (this.stream.isTTY === true ? 'bar' : 'lines');
    this.intervalMs = options.intervalMs ?? 1000;
    this.label = options.label ?? 'snapshot';
    this.columns = options.columns ?? this.stream.columns ?? 80;
  }

  /** Takes one snapshot event; events other than `started`, `progress` and `done` are ignored. */
  next(event: SnapshotEvent): void {
    if (this.stopped) return;
    if (event.type === 'started') this.t0 = event.t0;
    else if (event.type === 'progress') this.progress(event);
    else if (event.type === 'done') this.stop();
  }

  /** Ends the output with the last state: the bar is drawn a final time and left, or the last line written. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const last = this.latest;
    if (this.bar !== undefined) {
      if (last !== undefined) this.bar.update(last.savedPages, this.payload(last));
      this.bar.stop();
    } else if (last !== undefined && !this.sameFigures(last, this.written)) {
      this.writeLine(last);
    }
  }

  /** Whether two progress events show the same figures (their times aside): a line for both would say the same twice. */
  private sameFigures(a: ProgressEvent, b: ProgressEvent | undefined): boolean {
    return (
      b !== undefined &&
      a.savedPages === b.savedPages &&
      a.bytesWritten === b.bytesWritten &&
      a.poolInUse === b.poolInUse &&
      a.saved.bulk === b.saved.bulk &&
      a.saved.fault === b.saved.fault &&
      a.saved.copy === b.saved.copy
    );
  }

  private progress(event: ProgressEvent): void {
    this.t0 ??= event.at;
    this.latest = event;
    if (this.mode === 'bar') {
      if (this.bar === undefined) {
        this.bar = new SingleBar({
          stream: this.stream,
          // One line fitted to the terminal: the most useful fields kept, the bar narrowed or left out.
          format: (options, params, payload: Record<string, string>) =>
            fitLine(
              `${this.label} ${Math.floor(params.progress * 100)}%`,
              this.fields(payload, params.eta),
              (size) => {
                const done = Math.round(params.progress * (size - 2));
                return `[${(options.barCompleteChar ?? '=').repeat(done)}${(options.barIncompleteChar ?? '-').repeat(size - 2 - done)}]`;
              },
              this.columns - 1,
            ),
          barCompleteChar: '\u2588',
          barIncompleteChar: '\u2591',
          hideCursor: false,
          // The command handles Ctrl-C; the bar is stopped by its clean-up.
          gracefulExit: false,
        });
        this.bar.start(event.totalPages, event.savedPages, this.payload(event));
      } else {
        this.bar.update(event.savedPages, this.payload(event));
      }
      return;
    }
    const previous = this.written;
    // The complete state is written once: a line at 100% is the last.
    if (previous !== undefined && previous.savedPages === previous.totalPages) return;
    if (previous === undefined || event.at - previous.at >= this.intervalMs) this.writeLine(event);
  }

  private writeLine(event: ProgressEvent): void {
    this.written = event;
    const { bulk, fault, copy, elapsed } = this.payload(event);
    const share = event.totalPages === 0 ? 100 : Math.floor((event.savedPages / event.totalPages) * 100);
    this.stream.write(
      `${this.label} ${share}%: ${event.savedPages}/${event.totalPages} pages saved (bulk ${bulk}, fault ${fault}, copy ${copy}); ` +
        `${formatBytes(event.bytesWritten)} written; pool ${event.poolInUse} pages in use; ${elapsed}\n`,
    );
  }

  /** The bar's fields after the head, in the order shown; `rank`: 0 the most useful. ETA from cli-progress, in seconds. */
  private fields(payload: Record<string, string>, etaSeconds: number): Field[] {
    const eta = Number.isFinite(etaSeconds) && etaSeconds >= 0 ? formatDuration(Math.round(etaSeconds) * 1000) : '-';
    return [
      { text: `${payload['elapsed'] ?? ''}, eta ${eta}`, rank: 0 },
      { text: `${payload['value'] ?? ''}/${payload['total'] ?? ''} pages`, rank: 1 },
      { text: payload['written'] ?? '', rank: 2 },
      { text: `pool ${payload['pool'] ?? ''}`, rank: 3 },
      { text: `bulk ${payload['bulk'] ?? ''}, fault ${payload['fault'] ?? ''}, copy ${payload['copy'] ?? ''}`, rank: 4 },
    ];
  }

  /** The bar's tokens beyond cli-progress's own. */
  private payload(event: ProgressEvent): Record<'bulk' | 'fault' | 'copy' | 'written' | 'pool' | 'elapsed' | 'value' | 'total', string> {
    return {
      value: String(event.savedPages),
      total: String(event.totalPages),
      bulk: String(event.saved.bulk),
      fault: String(event.saved.fault),
      copy: String(event.saved.copy),
      written: `${formatBytes(event.bytesWritten)} written`,
      pool: `${event.poolInUse} in use`,
      elapsed: formatDuration(Math.max(0, event.at - (this.t0 ?? event.at))),
    };
  }
}

/**
 * Shows the progress of the snapshot events passing through (see
 * `ProgressReporter`); the output ends when they complete or error, or on
 * unsubscribe. One reporter per subscription.
 * @example
 * snapshot(memory, sink).pipe(showProgress()).subscribe(...);
 */
export function showProgress(options: ProgressReporterOptions = {}): MonoTypeOperatorFunction<SnapshotEvent> {
  return (events$) =>
    defer(() => {
      const reporter = new ProgressReporter(options);
      return events$.pipe(
        tap((event) => reporter.next(event)),
        finalize(() => reporter.stop()),
      );
    });
}
