import type { Migration } from '../../../../../lib/db/migrator';
import { ordersSchema } from './0001-orders';

/** Append only: a released migration is never edited. */
export const migrations: Migration[] = [ordersSchema];
