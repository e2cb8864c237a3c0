import type { Migration } from '../../../../../lib/db/migrator';
import { notificationsSchema } from './0001-notifications';

/** Append only: a released migration is never edited. */
export const migrations: Migration[] = [notificationsSchema];
