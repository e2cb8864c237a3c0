import fs from 'node:fs';
import path from 'node:path';
import { isPortTaken } from '../../lib/net/ports';
import { Component, type ComponentEvent } from '../stack/component';
import { stackPaths, writeStackState } from '../stack/home';
import { PortTakenError, startStackPostgres, type StackPostgres } from '../stack/postgres';
import { appComponents, DEFAULT_PORTS } from '../stack/topology';
import { CliError } from '../cli/errors';
import { printTable } from '../cli/output';

export interface UpOptions {
  fresh?: boolean;
}

const envPort = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CliError(`${name} must be a port number, got ${JSON.stringify(raw)}`);
  return n;
};

/**
 * `strangler up`: the whole local stack in the foreground. Ctrl-C stops it in reverse order; a failure at start
 * stops what had started and exits non-zero with one line saying why.
 */
export async function up(options: UpOptions): Promise<void> {
  const paths = stackPaths();
  if (options.fresh) fs.rmSync(paths.home, { recursive: true, force: true });
  fs.mkdirSync(paths.logs, { recursive: true });

  const ports = { postgres: envPort('STRANGLER_PG_PORT', DEFAULT_PORTS.postgres), monolith: envPort('MONOLITH_PORT', DEFAULT_PORTS.monolith) };
  const components = appComponents(ports);
  for (const c of components) {
    if (await isPortTaken(c.port)) throw new CliError(new PortTakenError(c.name, c.port).message);
  }

  const started: { name: string; stop: () => Promise<void> }[] = [];
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    for (const s of [...started].reverse()) {
      process.stdout.write(`stopping ${s.name}\n`);
      await s.stop().catch((err: unknown) => process.stderr.write(`  ${s.name}: ${String(err)}\n`));
    }
    fs.rmSync(paths.stateFile, { force: true });
  };
  const onSignal = () => {
    process.stdout.write('\n');
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const rows: string[][] = [];
  const stateComponents: { name: string; url: string; pid?: number }[] = [];
  try {
    process.stdout.write('starting postgres…\n');
    let pg: StackPostgres;
    try {
      pg = await startStackPostgres({ dataDir: paths.pgData, port: ports.postgres, externalUrl: process.env.STRANGLER_PG_URL || undefined });
    } catch (err) {
      throw new CliError(err instanceof PortTakenError ? err.message : `postgres failed to start: ${(err as Error).message}`);
    }
    started.push({ name: 'postgres', stop: () => pg.stop() });
    rows.push(['postgres', pg.embedded ? `127.0.0.1:${ports.postgres}` : redact(pg.serverUrl), pg.embedded ? `data in ${paths.pgData}` : 'external (STRANGLER_PG_URL)']);

    const urls: Record<string, string> = {};
    for (const spec of components) {
      process.stdout.write(`starting ${spec.name}…\n`);
      const env: Record<string, string> = { PORT: String(spec.port), ...(spec.env?.(urls) ?? {}) };
      if (spec.database) env.DATABASE_URL = await pg.database(spec.database);
      const component = new Component(
        { name: spec.name, entry: spec.entry, env, healthUrl: `http://127.0.0.1:${spec.port}/health`, logFile: path.join(paths.logs, `${spec.name}.log`) },
        report,
      );
      started.push({ name: spec.name, stop: () => component.stop() });
      try {
        await component.start();
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      urls[spec.name] = `http://127.0.0.1:${spec.port}`;
      stateComponents.push({ name: spec.name, url: urls[spec.name], pid: component.pid });
      rows.push([spec.name, urls[spec.name], `logs: ${path.relative(process.cwd(), path.join(paths.logs, `${spec.name}.log`))}`]);
    }

    writeStackState({ startedAt: new Date().toISOString(), pid: process.pid, components: stateComponents });
    process.stdout.write('\nstrangler stack is up\n\n');
    printTable(['component', 'address', 'notes'], rows);
    process.stdout.write('\nCtrl-C stops everything.\n');
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function report(e: ComponentEvent): void {
  if (e.type === 'exited') {
    process.stderr.write(`! ${e.name} exited (code ${e.code ?? '-'}, signal ${e.signal ?? '-'})${e.restarting ? ', restarting' : ', giving up'}\n`);
  } else {
    process.stderr.write(`✓ ${e.name} restarted\n`);
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
