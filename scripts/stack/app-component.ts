/**
 * A process `strangler up` runs, and the addresses its environment is built from: shared by the toolkit's own
 * components (./topology.ts) and the shop demo's (./shop.ts).
 */
export interface AppComponent {
  name: string;
  entry: string;
  port: number;
  database?: string;
  /** The variable that carries the database URL (default DATABASE_URL). */
  databaseEnv?: string;
  env?: (stack: StackAddresses) => Record<string, string>;
}

export interface StackAddresses {
  urls: Record<string, string>;
  kafkaBrokers: string;
  unleashUrl: string;
  unleashClientToken: string;
  unleashAdminToken: string;
  adminToken: string;
  /** Signs the facade's dry runs and orders' calls to payments; every service verifies it (lib/http/internal-auth). */
  internalSecret: string;
  home: string;
  /** `strangler up --workshop`: the sample services accept run-time faults and planted bugs. */
  workshop: boolean;
}
