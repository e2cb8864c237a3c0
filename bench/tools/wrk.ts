import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LoadGenerator, LoadResult, LoadSpec } from './load';

const exec = promisify(execFile);
const SCRIPT = path.join(__dirname, 'users.lua');
const MARKER = 'BENCH_RESULT ';

interface WrkDone {
  requests: number;
  durationUs: number;
  errors: Record<'connect' | 'read' | 'write' | 'status' | 'timeout', number>;
  latencyUs: { p50: number; p90: number; p99: number; max: number };
}

/** Reads the JSON line our Lua `done()` prints; wrk's own human summary is ignored. */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (!line) throw new Error(`wrk printed no result line:\n${stdout.slice(-2000)}`);
  const r = JSON.parse(line.slice(MARKER.length)) as WrkDone;
  const seconds = r.durationUs / 1e6;
  const e = r.errors;
  return {
    requests: r.requests,
    seconds,
    rps: seconds > 0 ? r.requests / seconds : 0,
    p50: r.latencyUs.p50 / 1000,
    p90: r.latencyUs.p90 / 1000,
    p99: r.latencyUs.p99 / 1000,
    max: r.latencyUs.max / 1000,
    errors: e.connect + e.read + e.write + e.status + e.timeout,
  };
}

export function wrkGenerator(binary: string, version: string, users: number): LoadGenerator {
  return {
    name: 'wrk',
    version,
    variesUsers: true,
    async run(spec: LoadSpec) {
      const args = ['-t', String(spec.threads), '-c', String(spec.connections), '-d', `${spec.seconds}s`, '--timeout', '5s', '-s', SCRIPT, spec.url];
      // wrk has no rate option: a per-connection pause of connections/rate seconds offers at most `rate` req/s.
      const delayMs = spec.rate ? Math.max(1, Math.round((spec.connections * 1000) / spec.rate)) : 0;
      const env = { ...process.env, BENCH_USERS: String(users), BENCH_DELAY_MS: String(delayMs) };
      const { stdout } = await exec(binary, args, { env, maxBuffer: 1 << 20, timeout: (spec.seconds + 30) * 1000 });
      return parseWrkOutput(stdout);
    },
  };
}
