import type { ClientConfig } from 'pg';

/**
 * Session settings for every connection that reads rows (snapshot and replication): values are decoded from
 * Postgres's text output, so its format must not depend on the server's or the role's defaults.
 */
const SESSION_OPTIONS = ['DateStyle=ISO', 'TimeZone=UTC', 'IntervalStyle=iso_8601', 'bytea_output=hex', 'extra_float_digits=1', 'lc_monetary=C']
  .map((o) => `-c ${o}`)
  .join(' ');

export function readerConfig(databaseUrl: string, applicationName: string): ClientConfig {
  return { connectionString: databaseUrl, options: SESSION_OPTIONS, application_name: applicationName };
}

export function replicationConfig(databaseUrl: string, applicationName: string): ClientConfig & { replication: 'database' } {
  return { ...readerConfig(databaseUrl, applicationName), replication: 'database' };
}

/** Identifiers we put into SQL and replication commands; the plan's schema already restricts table names. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualifiedName(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A pipeline's table: `users` (schema public) or `sales.users`. */
export function splitTableName(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { schema: 'public', table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}
