import type { Migration } from '../../../../lib/db/migrator';
import { initialSchema } from './0001-initial-schema';

/** Append only: a released migration is never edited. */
export const migrations: Migration[] = [initialSchema];
