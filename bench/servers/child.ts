/**
 * Shared by the bench's own server processes: the port comes from the environment, and the process exits when the
 * bench that started it goes away (its IPC channel closes), so a killed bench leaves nothing listening.
 */
export function benchPort(): number {
  const port = Number(process.env.BENCH_PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('BENCH_PORT must be set to a TCP port');
  return port;
}

export function upstreamTarget(): URL {
  const raw = process.env.BENCH_UPSTREAM;
  if (!raw) throw new Error('BENCH_UPSTREAM must be set to the upstream URL');
  return new URL(raw);
}

export function exitWithBench(): void {
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}
