import type { PageRun, Sink, SinkCallback } from './Sink';

/**
 * Stores `runs` in `sink` as one write: a single run through its `write`,
 * several through its `writeRuns` when it has one, else one `write` per run,
 * `done` called once when all have completed (or at the first error). The
 * pipeline hands its batches over with it, and a wrapping sink
 * (`ThrottledSink`) passes a batch on to the sink it wraps.
 */
export function writeRunsTo(sink: Sink, runs: readonly PageRun[], done: SinkCallback): void {
  if (runs.length === 1) return sink.write(runs[0] as PageRun, done);
  if (typeof sink.writeRuns === 'function') return sink.writeRuns(runs, done);
  if (runs.length === 0) return done();
  const one = joinCallbacks(runs.length, done);
  for (const run of runs) {
    if (one.settled) return;
    sink.write(run, one);
  }
}

/** A callback to hand out `count` times: `done` once all were called, or at the first error. */
export function joinCallbacks(count: number, done: SinkCallback, ignored: () => boolean = () => false): SinkCallback & { readonly settled: boolean } {
  let waiting = count;
  const one = (error?: Error | null): void => {
    if (one.settled || ignored()) return;
    if (error) {
      one.settled = true;
      return done(error);
    }
    if (--waiting === 0) {
      one.settled = true;
      done();
    }
  };
  one.settled = false;
  return one;
}
