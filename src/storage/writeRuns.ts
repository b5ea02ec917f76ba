import type { PageRun, Sink, SinkCallback } from './Sink';

/**
 * Stores `runs` in `sink` as one write: through its `writeRuns` when it has
 * one, else one `write` per run, `done` called once when all have completed
 * (or at the first error). A wrapping sink (`ThrottledSink`) uses it to pass
 * a batch on to the sink it wraps.
 */
export function writeRunsTo(sink: Sink, runs: readonly PageRun[], done: SinkCallback): void {
  if (typeof sink.writeRuns === 'function') return sink.writeRuns(runs, done);
  let waiting = runs.length;
  let settled = false;
  const one = (error?: Error | null): void => {
    if (settled) return;
    if (error) {
      settled = true;
      return done(error);
    }
    if (--waiting === 0) {
      settled = true;
      done();
    }
  };
  if (waiting === 0) return done();
  for (const run of runs) {
    if (settled) return;
    sink.write(run, one);
  }
}
