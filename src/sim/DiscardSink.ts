import { checkCapacity } from '../storage/checkCapacity';
import type { Sink, SinkCallback } from '../storage/Sink';

/**
 * A sink that stores nothing and completes every write at once: the inner
 * sink of a simulated device, whose `ThrottledSink` supplies the time.
 */
export class DiscardSink implements Sink {
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = checkCapacity(capacity);
  }

  start(): void {}

  write(_run: unknown, done: SinkCallback): void {
    done();
  }

  writeRuns(_runs: unknown, done: SinkCallback): void {
    done();
  }

  end(done: SinkCallback): void {
    done();
  }

  abort(): void {}
}
