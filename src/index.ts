// Memory: the contract and the SharedArrayBuffer implementation.
export { PagedMemory } from './memory/PagedMemory';
export type { PagedMemoryOptions, MemoryBlock, ShareOptions } from './memory/PagedMemory';
export { PageState, blocksWrites, isProtected } from './memory/contract';
export type { BlockInfo, FaultHandler, LoadSession, ProtectOptions, ProtectionSession, SnapshotMemory } from './memory/contract';

// Writer threads: a shared memory's handle, attached to from a worker.
export { attachMemory } from './threads/attachMemory';
export type { MemoryWriter, WriterFaults } from './threads/attachMemory';
export type { MemoryHandle, SharedBlock } from './threads/handle';
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
export type { PageBufferPool } from './pool/contract';
export { PagePool } from './pool/PagePool';
export type { SharedPagePool } from './pool/SharedPagePool';

// Storage: the sink contract and its implementations.
export type { PageRun, SaveVia, Sink, SinkCallback, SnapshotHeader, SnapshotIdentity, SnapshotKind, WriteSizeHint } from './storage/Sink';
export { MemorySink } from './storage/MemorySink';
export type { MemorySinkOptions, SinkState } from './storage/MemorySink';
export { VirtualSink } from './storage/VirtualSink';
export type { VirtualSinkOptions, WriteRecord } from './storage/VirtualSink';

// Snapshot files and streams: sinks, throttled storage, the format's reader, verify and restore.
export { FileSink } from './storage/FileSink';
export type { FileSinkOptions, FileSinkState } from './storage/FileSink';
export type { FileSinkFs } from './storage/writeAll';
export { StreamSink } from './storage/StreamSink';
export type { StreamSinkOptions, StreamSinkState } from './storage/StreamSink';
export { ThrottledSink } from './storage/ThrottledSink';
export type { ThrottledSinkOptions } from './storage/ThrottledSink';
export { StorageDevice } from './storage/StorageDevice';
export { storageProfiles } from './storage/profiles';
export type { StorageProfile, StorageProfileName } from './storage/profiles';
export { openSnapshot, readSnapshotSource } from './format/reader';
export type { PageSpan, SnapshotFile, SnapshotRecord, SnapshotTrailer } from './format/reader';
export type { SnapshotFileHeader } from './format/decodeHeader';
export type { ByteSource, OpenSource, SnapshotLocation, SnapshotSource, SourceState } from './format/ByteSource';
export { readIndex, readRecordAt, SnapshotIndex } from './format/randomAccess';
export { PageIndex } from './format/PageIndex';
export type { CodecName } from './format/layout';
export { verify } from './format/verify';
export type { ChainVerifyFailed, ChainVerifyPassed, ChainVerifyReport, VerifyFailed, VerifyPassed, VerifyReport } from './format/verify';
export { restore } from './format/restore';
export type { RestoreLinkReport, RestoreReport } from './format/restore';
export { merge } from './format/merge';
export type { MergeLinkReport, MergeOptions, MergeReport } from './format/merge';
export { ChainError, FileChangedError, FileExistsError, FileSinkError, FormatError, GeometryMismatchError } from './errors';
export type { ChainProblem } from './errors';

// Time and metrics.
export { eventLoopScheduler } from './scheduling/eventLoopScheduler';
export type { StallSummary } from './metrics/StallRecorder';

// Errors.
export {
  CancelledError,
  CutViolationError,
  ForeignBufferError,
  LoadAbortedError,
  OptionError,
  OutOfBlockError,
  PageNotLoadedError,
  RestoreInProgressError,
  SaverThreadWriteError,
  SimulationStalledError,
  SinkError,
  SnapshotInProgressError,
  StreamClosedError,
  TooManyWritersError,
  WriterDetachedError,
} from './errors';
export type { StallCondition } from './errors';

// The simulator: the same pipeline in virtual time, over a memory without bytes,
// a simulated storage device and a seeded write workload.
export { simulate } from './sim/simulate';
export type { HostMemory, SimulateOptions, SimulatedWorkload, SimulationResult } from './sim/simulate';
export { GeometryMemory } from './sim/GeometryMemory';
export type { GeometryMemoryOptions, ReleaseCallback } from './sim/GeometryMemory';
export type { PageDistribution, WorkloadOptions } from './sim/workload';
export type { WriterStats } from './sim/writers';
export { sweep } from './sim/sweep';
export type { SweepOptions, SweepRow } from './sim/sweep';
export { sweepHtml } from './sim/htmlReport';
export type { HtmlReportOptions } from './sim/htmlReport';
export { VirtualClock } from './sim/VirtualClock';

// Live restore: writers resume before the image is loaded, touched pages first.
export { restoreLive } from './restore/restoreLive';
export type { RestoreLiveOptions } from './restore/options';
export type { IndexedEvent, LoadedEvent, RestoreDoneEvent, RestoreEvent, RestoreFaultEvent, RestoreProgressEvent, RestoreStartedEvent, RestoreStats } from './restore/events';
export type { LoadedRun, PageSource, SourceGeometry } from './restore/PageSource';
export { RecordTable } from './restore/RecordTable';
export { snapshotSource } from './restore/snapshotSource';
