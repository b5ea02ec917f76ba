import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a TypeScript file, compiled on load like the
 * tests themselves, and resolves with its first message (`ready`).
 */
export function startWorker(file: string, workerData: unknown): Worker {
  return new Worker(file, { workerData, execArgv: ['--require', 'ts-node/register/transpile-only'] });
}

/** The next message a worker posts, or its error / exit as a rejection. */
export function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (message: T): void => {
      cleanup();
      resolve(message);
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`worker exited with code ${code} before posting`));
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
