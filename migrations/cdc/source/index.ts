export { CdcSource, type CdcSourceOptions, type SourceState, type SourceStatus } from './cdc-source';
export { dropPipelineSource } from './drop';
export { CdcSourceError, ReplicationStreamError, SlotBusyError, SnapshotError, SourceSetupError } from '../pg/errors';
export { HEARTBEAT_PREFIX, isHeartbeatPrefix } from '../pg/heartbeat';
export { SINK_MARKER_PREFIX, markSinkTransaction, oppositePipeline } from '../pg/loop-guard';
export { formatLsn, parseLsn, type Lsn } from '../pg/lsn';
