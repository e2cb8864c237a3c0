import type { PoolClient } from 'pg';

/**
 * Called first in every sink transaction, so the opposite pipeline's source can recognise (and skip) what a sink
 * wrote: loop prevention. The source side owns the mechanism (`migrations/cdc/source/loop-guard.ts`, the default);
 * the option exists for tests and for a sink whose opposite source uses another mechanism.
 */
export type MarkSinkTransaction = (client: PoolClient, pipeline: string) => Promise<void>;
