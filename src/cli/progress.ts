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
    } else if (last !== undefined && last !== this.written) {
      this.writeLine(last);
    }
  }

  private progress(event: ProgressEvent): void {
    this.t0 ??= event.at;
    this.latest = event;
    if (this.mode === 'bar') {
      if (this.bar === undefined) {
        this.bar = new SingleBar({
          stream: this.stream,
          format: `${this.label} [{bar}] {percentage}% | {value}/{total} pages: bulk {bulk}, fault {fault}, copy {copy} | {written} | pool {pool} | {elapsed}, eta {eta_formatted}`,
          barsize: 24,
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

  /** The bar's tokens beyond cli-progress's own. */
  private payload(event: ProgressEvent): Record<'bulk' | 'fault' | 'copy' | 'written' | 'pool' | 'elapsed', string> {
    return {
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
