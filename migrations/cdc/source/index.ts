export { CdcSource, type CdcSourceOptions, type SourceState, type SourceStatus } from './cdc-source';
export { dropPipelineSource } from './drop';
export { CdcSourceError, ReplicationStreamError, SlotBusyError, SnapshotError, SourceSetupError } from './errors';
export { HEARTBEAT_PREFIX, isHeartbeatPrefix } from './heartbeat';
export { SINK_MARKER_PREFIX, markSinkTransaction, oppositePipeline } from './loop-guard';
export { formatLsn, parseLsn, type Lsn } from './lsn';
