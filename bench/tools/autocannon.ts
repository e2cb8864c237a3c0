import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LoadGenerator, LoadSpec } from './load';

const exec = promisify(execFile);

interface AutocannonJson {
  requests: { total: number };
  duration: number;
  latency: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

/**
 * The fallback when wrk cannot be had: autocannon through npx, only when it is already installed (never fetched).
 * Its CLI sends one fixed x-user-id, so the canary row then measures one side of the split only.
 */
export function autocannonGenerator(version: string): LoadGenerator {
  return {
    name: 'autocannon',
    version,
    variesUsers: false,
    async run(spec: LoadSpec) {
      const args = ['--no-install', 'autocannon', '--json', '-c', String(spec.connections), '-w', String(spec.threads), '-d', String(spec.seconds), '-H', 'x-user-id=user-1', ...(spec.rate ? ['-R', String(spec.rate)] : []), spec.url];
      const { stdout } = await exec('npx', args, { maxBuffer: 16 << 20, timeout: (spec.seconds + 60) * 1000 });
      const r = JSON.parse(stdout) as AutocannonJson;
      return {
        requests: r.requests.total,
        seconds: r.duration,
        rps: r.requests.total / r.duration,
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        max: r.latency.max,
        errors: r.errors + r.timeouts + r.non2xx,
      };
    },
  };
}
