/**
 * Runs `task` with a signal that aborts on the first SIGINT (Ctrl-C) or
 * SIGTERM, its `reason` being the signal's name. While it runs those signals
 * do not kill the process, so the task can clean up; a second one does.
 */
export async function withCancelSignals<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await task(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
