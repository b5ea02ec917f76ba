/** What `bgsnap run` and its vCPU threads (`vcpu.ts`) say to each other. */
import type { MemoryHandle } from '../../threads/handle';
import type { WriterFaults } from '../../threads/attachMemory';
import type { WorkloadName } from './workload';

/** Words of the shared `Int32Array` every vCPU watches. */
export const Flag = {
  /** Set to 1 (and notified) when the vCPUs may start writing. */
  Go: 0,
  /** Set to 1 (and notified) when they must stop. */
  Stop: 1,
} as const;
export const FLAG_WORDS = 2;

/** A vCPU thread's `workerData`. */
export interface VcpuData {
  readonly handle: MemoryHandle;
  /** `FLAG_WORDS` Int32 words (see `Flag`). */
  readonly flags: SharedArrayBuffer;
  readonly workload: WorkloadName;
  /** This vCPU, from 0, and how many there are. */
  readonly vcpu: number;
  readonly vcpus: number;
  /** Writes per second while not blocked, or as many as it can. */
  readonly writesPerSecond: number | 'max';
  readonly seed: number;
  /** Most stalls kept as samples; past it a uniform sample of them (reservoir sampling). */
  readonly sampleLimit: number;
}

/** Stalls of the writes that found their page protected, timed by the vCPU around each write. */
export interface StallSamples {
  /** Writes timed: each found its page protected and so faulted. */
  readonly timed: number;
  /** Their stalls in microseconds: all of them, or a uniform sample of `sampleLimit`. */
  readonly micros: Float64Array;
}

export type VcpuMessage =
  | { readonly type: 'attached'; readonly id: number }
  /** The vCPU stopped and detached. `faults` is the writer's own account (`MemoryWriter.faults`). */
  | {
      readonly type: 'finished';
      readonly id: number;
      readonly writes: number;
      readonly faults: WriterFaults;
      readonly stalls: StallSamples;
      /** When its first write completed, in wall milliseconds (`performance.timeOrigin + performance.now()`), or undefined. */
      readonly firstWriteAt: number | undefined;
    };
