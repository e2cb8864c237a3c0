/** One load run's outcome, whichever generator produced it. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Latencies in milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Connect/read/write errors, timeouts and non-2xx/3xx answers. */
  errors: number;
}

export interface LoadSpec {
  url: string;
  seconds: number;
  connections: number;
  threads: number;
  /** Offered rate in req/s for a paced run; absent means as fast as the server answers. */
  rate?: number;
}

export interface LoadGenerator {
  name: string;
  version: string;
  /** Whether requests carry a varying x-user-id (sticky canary); autocannon's CLI sends one fixed user. */
  variesUsers: boolean;
  run(spec: LoadSpec): Promise<LoadResult>;
}
