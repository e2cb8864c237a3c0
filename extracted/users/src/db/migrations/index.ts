import type { Migration } from '../../../../../lib/db/migrator';
import { usersSchema } from './0001-users';

/** Append only: a released migration is never edited. */
export const migrations: Migration[] = [usersSchema];
