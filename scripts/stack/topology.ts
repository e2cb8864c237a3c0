/**
 * What `strangler up` runs, in start order (stopped in reverse). Each application component owns one database
 * on the stack's Postgres and runs in its own process.
 */
export interface AppComponent {
  name: string;
  entry: string;
  port: number;
  /** Database owned by this component, created on first start. */
  database?: string;
  /** Extra environment, given the URLs of what started before it. */
  env?: (urls: Record<string, string>) => Record<string, string>;
}

export const DEFAULT_PORTS = {
  postgres: 5433,
  monolith: 3000,
} as const;

export function appComponents(ports: { monolith: number }): AppComponent[] {
  return [{ name: 'monolith', entry: 'monolith/src/main.ts', port: ports.monolith, database: 'monolith' }];
}
