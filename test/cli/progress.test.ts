import { Writable } from 'node:stream';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fitLine, ProgressReporter, showProgress, type ProgressStream } from '../../src/cli/progress';
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
const started: StartedEvent = { type: 'started', t0: 5000, wallTime: 0, kind: 'full', identity: { id: '00000000-0000-4000-8000-000000000001', root: '00000000-0000-4000-8000-000000000001', link: 0 }, totalPages: TOTAL, memoryPages: TOTAL, pageSize: 4096, strategy: 'copy', cut: [], t0PauseMs: 0, t0Redos: 0 };

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

    // Redrawn in place: the cursor goes back to column 1 before each drawing (ESC [ 1 G), then clears to the end (ESC [ 0 K).
    const drawings = stream.text.split('\x1b[1G').slice(1).map((d) => d.replace(/\x1b\[0K[\s\S]*$/, ''));
    expect(drawings.length).toBeGreaterThanOrEqual(2);
    // 160 columns: every field, the bar at its widest.
    expect(drawings[0]).toMatch(/^snapshot 3% \[█░{21}\] \| 100 ms, eta [^|]+ \| 128\/4096 pages \| 512 KiB written \| pool 1 in use \| bulk 123, fault 3, copy 2$/);
    const last = drawings[drawings.length - 1] as string;
    expect(last).toMatch(/^snapshot 100% \[█{22}\] \| 3.2 s, eta 0 \| 4096\/4096 pages \| 16 MiB written \| pool 2 in use \| bulk 3936, fault 96, copy 64$/);
    for (const d of drawings) expect(d.length).toBeLessThan(160);
    // Stopped: the line is ended, and line wrapping given back to the terminal (ESC [ ? 7 h).
    expect(stream.text).toContain('\x1b[?7h');
    expect(stream.text.endsWith('\n')).toBe(true);
  });

  it.each([80, 120])('fits the bar into %i columns, the elapsed time and ETA kept', (columns) => {
    const stream = new FakeStream(true, columns);
    const reporter = new ProgressReporter({ stream, label: '[3/4] copy, pool 256 KiB' });
    reporter.next(started);
    for (let k = 1; k <= STEPS; k++) reporter.next(progressAt(k));
    reporter.stop();
    const drawings = stream.text.split('\x1b[1G').slice(1).map((d) => d.replace(/\x1b\[0K[\s\S]*$/, ''));
    for (const d of drawings) {
      expect(d.length, d).toBeLessThan(columns);
      expect(d).toMatch(/^\[3\/4\] copy, pool 256 KiB \d+% \[[█░]{8,22}\] \| [^|]+, eta [^|]+ \| \d+\/4096 pages/);
    }
    expect(drawings.at(-1)).toContain('| 3.2 s, eta 0 | 4096/4096 pages');
  });

  it('draws plain lines when asked to, even on a TTY', () => {
    const stream = new FakeStream(true);
    const reporter = new ProgressReporter({ stream, mode: 'lines' });
    reporter.next(progressAt(1));
    reporter.stop();
    expect(stream.text).toBe('snapshot 3%: 128/4096 pages saved (bulk 123, fault 3, copy 2); 512 KiB written; pool 1 pages in use; 0\n');
  });
});

describe('fitLine', () => {
  const fields = [
    { text: '1.2 s, eta 3 s', rank: 0 },
    { text: '100/400 pages', rank: 1 },
    { text: '400 KiB written', rank: 2 },
    { text: 'bulk 90, fault 5, copy 5', rank: 4 },
  ];
  const bar = (n: number): string => `[${'#'.repeat(n - 2)}]`;

  it('keeps every field and a bar of at most 24 characters when there is room', () => {
    expect(fitLine('run 25%', fields, bar, 200)).toBe(`run 25% [${'#'.repeat(22)}] | 1.2 s, eta 3 s | 100/400 pages | 400 KiB written | bulk 90, fault 5, copy 5`);
  });

  it('drops the least useful fields first, then the bar, then the pages, and never goes past the width', () => {
    // The least useful field goes; the bar takes what room is left (at least 10 characters).
    expect(fitLine('run 25%', fields, bar, 70)).toBe(`run 25% [${'#'.repeat(9)}] | 1.2 s, eta 3 s | 100/400 pages | 400 KiB written`);
    expect(fitLine('run 25%', fields, bar, 52)).toBe(`run 25% [${'#'.repeat(9)}] | 1.2 s, eta 3 s | 100/400 pages`);
    // No room for a bar of 10: it goes before the pages do.
    expect(fitLine('run 25%', fields, bar, 40)).toBe('run 25% | 1.2 s, eta 3 s | 100/400 pages');
    expect(fitLine('run 25%', fields, bar, 30)).toBe('run 25% | 1.2 s, eta 3 s');
    expect(fitLine('run 25%', fields, bar, 5)).toBe('run 2');
    for (let width = 1; width < 200; width++) expect(fitLine('run 25%', fields, bar, width).length).toBeLessThanOrEqual(width);
  });
});

describe('ProgressReporter lines at the end', () => {
  it('writes the 100% line once, even when later events repeat it', () => {
    const stream = new FakeStream(false);
    const reporter = new ProgressReporter({ stream, intervalMs: 0 });
    reporter.next(started);
    reporter.next(progressAt(STEPS));
    // The same figures again, later: the last write's completion, then done.
    reporter.next({ ...progressAt(STEPS), at: 5000 + 100 * STEPS + 7 });
    reporter.next({ type: 'done', stats: {} as never });
    const lines = stream.text.trimEnd().split('\n');
    expect(lines).toEqual(['snapshot 100%: 4096/4096 pages saved (bulk 3936, fault 96, copy 64); 16 MiB written; pool 2 pages in use; 3.2 s']);
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
