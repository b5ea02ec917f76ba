// Memory: the contract and the SharedArrayBuffer implementation.
export { PagedMemory } from './memory/PagedMemory';
export type { PagedMemoryOptions, MemoryBlock } from './memory/PagedMemory';
export { PageState } from './memory/contract';
export type { BlockInfo, FaultHandler, ProtectionSession, SnapshotMemory } from './memory/contract';
export type { BlockSpec } from './memory/geometry';

// The pipeline.
export { snapshot } from './pipeline/snapshot';
export type { SnapshotOptions } from './pipeline/options';
export type {
  DoneEvent,
  FaultEvent,
  ProgressEvent,
  SavedEvent,
  SnapshotEvent,
  SnapshotStats,
  StartedEvent,
  UnprotectedEvent,
} from './pipeline/events';

// Strategies.
export { copyStrategy } from './strategies/copy';
export { queueStrategy } from './strategies/queue';
export { strategies } from './strategies';
export type { StrategyName } from './strategies';
export type { Strategy, StrategyContext } from './strategies/Strategy';

// The page-buffer pool.
export { PagePool } from './pool/PagePool';

// Storage: the sink contract and its implementations.
export type { PageRun, SaveVia, Sink, SinkCallback, SnapshotHeader } from './storage/Sink';
export { MemorySink } from './storage/MemorySink';
export type { MemorySinkOptions, SinkState } from './storage/MemorySink';
export { VirtualSink } from './storage/VirtualSink';
export type { VirtualSinkOptions, WriteRecord } from './storage/VirtualSink';

// Time and metrics.
export { eventLoopScheduler } from './scheduling/eventLoopScheduler';
export type { StallSummary } from './metrics/StallRecorder';

// Errors.
export { ForeignBufferError, OptionError, OutOfBlockError, SinkError, SnapshotInProgressError } from './errors';
