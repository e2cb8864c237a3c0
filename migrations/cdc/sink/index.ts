export { CdcSink, type CdcSinkOptions, type SinkState, type SinkStatus } from './cdc-sink';
export { PoisonEventError, SinkStateError, SinkUnavailableError } from './errors';
export type { MarkSinkTransaction } from './loop-guard-hook';
export { DEFAULT_RETRY, type RetryPolicy } from './retry';
