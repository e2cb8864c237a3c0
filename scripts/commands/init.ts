import fs from 'node:fs';
import { Client } from 'pg';
import { CliError } from '../cli/errors';
import { formatTable } from '../cli/output';
import { validDraft } from '../plan/draft';
import { openApiRoutes, readOpenApi } from '../plan/openapi';
import { propose, type Proposal } from '../plan/propose';
import { readSchemaGraph } from '../plan/schema-graph';
import { redactUrl } from '../plan/check';

export interface InitFlags {
  database: string;
  openapi?: string;
  out?: string;
  monolithUrl?: string;
}

export function candidatesTable(p: Proposal): string {
  const rows = p.contexts.map((c) => [
    c.name,
    [c.root, ...c.owned.map((o) => o.table)].join(', '),
    c.references.join(', ') || '-',
    String(c.routes.length || '-'),
    p.couplings.filter((x) => x.fromContext === c.name).map((x) => x.toContext).filter((v, i, a) => a.indexOf(v) === i).join(', ') || '-',
  ]);
  const lines = [formatTable(['context', 'tables (root first)', 'reads reference', 'routes', 'depends on'], rows).trimEnd()];
  if (p.reference.length) lines.push(`reference tables (read by contexts, written by none): ${p.reference.join(', ')}`);
  for (const c of p.couplings) lines.push(`coupling to break: ${c.fk.from}.${c.fk.fromColumns.join(',')} → ${c.fk.to}.${c.fk.toColumns.join(',')} (${c.fromContext} → ${c.toContext})`);
  for (const l of p.leftOut) lines.push(`left out: ${l.table} — ${l.why}`);
  for (const r of p.unassignedRoutes) lines.push(`route for no context (stays on the monolith): ${r}`);
  for (const pr of p.problems) lines.push(`problem: ${pr}`);
  return `${lines.join('\n')}\n`;
}

/** `strangler init`: a draft plan from the monolith's live schema (and its OpenAPI document). */
export async function initCommand(flags: InitFlags): Promise<void> {
  if (!/^postgres(ql)?:\/\//.test(flags.database)) throw new CliError(`--database must be a postgres:// URL, got ${JSON.stringify(flags.database)}`);
  if (flags.out && fs.existsSync(flags.out)) throw new CliError(`${flags.out} exists; choose another --out or remove it`);
  const db = new Client({ connectionString: flags.database, connectionTimeoutMillis: 5_000, application_name: 'strangler-init' });
  db.on('error', () => undefined);
  let graph;
  try {
    await db.connect();
    graph = await readSchemaGraph(db);
  } catch (err) {
    throw new CliError(`cannot read the schema of ${redactUrl(flags.database)}: ${(err as Error).message || (err as { code?: string }).code}`);
  } finally {
    await db.end().catch(() => undefined);
  }
  let routes;
  try {
    routes = flags.openapi ? openApiRoutes(await readOpenApi(flags.openapi)) : [];
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const proposal = propose(graph, routes);
  const source = `${redactUrl(flags.database)}${flags.openapi ? ` and ${flags.openapi}` : ''}`;
  const { text, excluded } = validDraft(proposal, { url: flags.monolithUrl, databaseUrl: flags.database }, source);
  const summary = `${graph.tables.length} tables, ${graph.foreignKeys.length} foreign keys → ${proposal.contexts.length} candidate contexts\n\n${candidatesTable(proposal)}${excluded.map((e) => `left out of the draft: ${e} (the plan schema does not accept this name yet)\n`).join('')}`;
  if (flags.out) {
    fs.writeFileSync(flags.out, text);
    process.stdout.write(`${summary}\ndraft plan written to ${flags.out}; look for DECIDE, then: strangler plan check --plan ${flags.out}\n`);
  } else {
    process.stderr.write(summary);
    process.stdout.write(text);
  }
}
