import type { Migration } from '../../../../../lib/db/migrator';
import { paymentsSchema } from './0001-payments';

/** Append only: a released migration is never edited. */
export const migrations: Migration[] = [paymentsSchema];
