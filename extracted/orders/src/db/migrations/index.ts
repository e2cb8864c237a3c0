import type { Migration } from '../../../../../lib/db/migrator';
import { ordersSchema } from './0001-orders';
import { dryRunIds } from './0002-dry-run-ids';

/** Append only: a released migration is never edited. */
export const migrations: Migration[] = [ordersSchema, dryRunIds];
