import { Writable } from 'node:stream';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ProgressReporter, showProgress, type ProgressStream } from '../../src/cli/progress';
import type { ProgressEvent, SnapshotEvent, StartedEvent } from '../../src/pipeline/events';

/** A stream that keeps what is written to it, a terminal or not. */
class FakeStream extends Writable implements ProgressStream {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 160,
  ) {
    super({ decodeStrings: false });
  }
  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

const TOTAL = 4096;
const started: StartedEvent = { type: 'started', t0: 5000, wallTime: 0, totalPages: TOTAL, pageSize: 4096, strategy: 'copy', cut: [], t0PauseMs: 0 };

/** The progress of a snapshot saving 128 pages every 100 ms of its clock from t0 = 5000, with some faults and copies. */
function progressAt(k: number): ProgressEvent {
  const savedPages = Math.min(TOTAL, 128 * k);
  const fault = Math.min(savedPages, 3 * k);
  const copy = Math.min(savedPages - fault, 2 * k);
  return {
    type: 'progress',
    savedPages,
    saved: { bulk: savedPages - fault - copy, fault, copy },
    totalPages: TOTAL,
    bytesWritten: savedPages * 4096,
    poolInUse: k % 5,
    at: 5000 + 100 * k,
  };
}

const STEPS = 32; // 128 × 32 = 4096: the last event has every page saved.

describe('ProgressReporter, not on a TTY', () => {
  it('writes plain lines, at most one per interval of the snapshot clock, and the last state', () => {
    const stream = new FakeStream(false);
    const reporter = new ProgressReporter({ stream, intervalMs: 1000 });
    reporter.next(started);
    for (let k = 1; k <= STEPS; k++) reporter.next(progressAt(k));
    reporter.next({ type: 'done', stats: {} as never });

    expect(stream.text).not.toMatch(/\x1b/);
    const lines = stream.text.split('\n');
    expect(lines.pop()).toBe('');
    // Events from 5100 to 8200 ms: lines at 5100, 6100, 7100, 8100, then the last state at 8200.
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('snapshot 3%: 128/4096 pages saved (bulk 123, fault 3, copy 2); 512 KiB written; pool 1 pages in use; 100 ms');
    expect(lines[1]).toMatch(/^snapshot 34%: 1408\/4096 pages saved .*; 1.1 s$/);
    expect(lines[4]).toBe('snapshot 100%: 4096/4096 pages saved (bulk 3936, fault 96, copy 64); 16 MiB written; pool 2 pages in use; 3.2 s');
  });

  it('does not write the last state twice, and writes nothing after stop', () => {
    const stream = new FakeStream(false);
    const reporter = new ProgressReporter({ stream, intervalMs: 0, label: 'guest' });
    reporter.next(started);
    reporter.next(progressAt(1));
    reporter.next(progressAt(2));
    reporter.stop();
    reporter.next(progressAt(3));
    reporter.stop();
    const lines = stream.text.trimEnd().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['guest 3%', 'guest 6%']);
  });

  it('measures time from the first progress when it did not see t0', () => {
    const stream = new FakeStream(false);
    const reporter = new ProgressReporter({ stream });
    reporter.next(progressAt(10));
    reporter.next(progressAt(25));
    reporter.stop();
    expect(stream.text.trimEnd().split('\n').map((l) => l.split('; ').pop())).toEqual(['0', '1.5 s']);
  });
});

describe('ProgressReporter on a TTY', () => {
  it('draws a cli-progress bar in place and leaves it at the last state', () => {
    const stream = new FakeStream(true);
    const sigint = process.listenerCount('SIGINT');
    const reporter = new ProgressReporter({ stream });
    reporter.next(started);
    reporter.next(progressAt(1));
    // The bar takes over Ctrl-C from no one: the command's own handler stays in charge.
    expect(process.listenerCount('SIGINT')).toBe(sigint);
    for (let k = 2; k <= STEPS; k++) reporter.next(progressAt(k));
    reporter.stop();

    // Redrawn in place: the cursor goes back to column 1 before each drawing (ESC [ 1 G).
    const drawings = stream.text.split('\x1b[1G').slice(1);
    expect(drawings.length).toBeGreaterThanOrEqual(2);
    expect(drawings[0]).toContain('snapshot [');
    expect(drawings[0]).toContain('| 128/4096 pages: bulk 123, fault 3, copy 2 | 512 KiB written | pool 1 in use | 100 ms');
    const last = drawings[drawings.length - 1] as string;
    expect(last).toContain('100% | 4096/4096 pages: bulk 3936, fault 96, copy 64 | 16 MiB written | pool 2 in use | 3.2 s');
    expect(last).toMatch(/snapshot \[█+\] 100%/);
    // Stopped: the line is ended, and line wrapping given back to the terminal (ESC [ ? 7 h).
    expect(stream.text).toContain('\x1b[?7h');
    expect(stream.text.endsWith('\n')).toBe(true);
  });

  it('draws plain lines when asked to, even on a TTY', () => {
    const stream = new FakeStream(true);
    const reporter = new ProgressReporter({ stream, mode: 'lines' });
    reporter.next(progressAt(1));
    reporter.stop();
    expect(stream.text).toBe('snapshot 3%: 128/4096 pages saved (bulk 123, fault 3, copy 2); 512 KiB written; pool 1 pages in use; 0\n');
  });
});

describe('showProgress', () => {
  it('passes the events through and ends the output when they error', () => {
    const stream = new FakeStream(false);
    const events$ = new Subject<SnapshotEvent>();
    const seen: string[] = [];
    let failed: unknown;
    events$.pipe(showProgress({ stream, intervalMs: 10_000 })).subscribe({ next: (e) => seen.push(e.type), error: (e: unknown) => (failed = e) });
    events$.next(started);
    events$.next(progressAt(1));
    events$.next(progressAt(2));
    expect(stream.text.trimEnd().split('\n')).toHaveLength(1);
    events$.error(new Error('disk full'));
    expect(seen).toEqual(['started', 'progress', 'progress']);
    expect(failed).toBeInstanceOf(Error);
    // The last state is written once the events end.
    expect(stream.text.trimEnd().split('\n').map((l) => l.split(':')[0])).toEqual(['snapshot 3%', 'snapshot 6%']);
  });

  it('gives each subscription its own reporter, ended on unsubscribe', () => {
    const stream = new FakeStream(false);
    const events$ = new Subject<SnapshotEvent>();
    const shown$ = events$.pipe(showProgress({ stream, intervalMs: 10_000, label: 'run' }));
    const a = shown$.subscribe();
    const b = shown$.subscribe();
    events$.next(progressAt(4));
    events$.next(progressAt(8));
    a.unsubscribe();
    b.unsubscribe();
    expect(stream.text.trimEnd().split('\n').map((l) => l.split(':')[0])).toEqual(['run 12%', 'run 12%', 'run 25%', 'run 25%']);
  });
});
