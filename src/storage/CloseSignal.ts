/**
 * When a sink is closed: `closed` settles once its output is in place, or
 * removed after an abort, and rejects when the clean-up failed; `settled`
 * is the same moment, never rejecting (what `abort()` returns).
 */
export class CloseSignal {
  readonly closed: Promise<void>;
  readonly settled: Promise<void>;
  private resolveClosed: () => void = () => undefined;
  private rejectClosed: (error: Error) => void = () => undefined;

  constructor() {
    this.closed = new Promise((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    this.settled = this.closed.then(
      () => undefined,
      () => undefined,
    );
  }

  resolve(): void {
    this.resolveClosed();
  }

  reject(error: Error): void {
    this.rejectClosed(error);
  }
}
