import { parsePlan } from '../../control/plan';
import type { Proposal, ProposedContext } from './propose';

/**
 * The proposal as a plan file. Everything a person must decide is marked `# DECIDE:`; everything the draft could
 * not express (a table the plan cannot take yet, a table without a key) is a comment that says why. The text is
 * checked with the plan loader before it is returned, so a draft always loads.
 */
const q = (s: string) => JSON.stringify(s);
const envName = (ctx: string, what: string) => `${ctx.toUpperCase()}_${what}`;

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

function serverOf(url: string, database: string): string {
  const u = new URL(withoutPassword(url));
  u.pathname = `/${database}`;
  return u.toString();
}

function contextYaml(c: ProposedContext, i: number, databaseUrl: string, excluded: Set<string>): string[] {
  const lines: string[] = [];
  lines.push(`  ${c.name}:`);
  lines.push(`    # aggregate root ${c.root}${c.owned.length ? `, owns ${c.owned.map((o) => `${o.table} (${o.via.fromColumns.join(', ')} → ${o.via.to})`).join(', ')}` : ''}`);
  lines.push('    service:');
  lines.push(`      url: \${${envName(c.name, 'URL')}:-http://127.0.0.1:${4101 + i}}   # DECIDE: where the extracted service runs`);
  lines.push(`      database: \${${envName(c.name, 'DATABASE')}:-${serverOf(databaseUrl, c.name)}}   # DECIDE: the service's own database`);
  lines.push('    routes:');
  if (c.routes.length) for (const r of c.routes) lines.push(`      - ${q(r)}`);
  else {
    const seg = c.root.replace(/_/g, '-').toLowerCase();
    lines.push(`      # DECIDE: guessed from the table name (no OpenAPI document matched); list the paths this context serves`);
    lines.push(`      - ${q(`* /api/${seg}`)}`);
    lines.push(`      - ${q(`* /api/${seg}/:id`)}`);
  }
  lines.push('    tables:');
  const table = (name: string, comment: string) => {
    if (excluded.has(`${c.name}.${name}`)) lines.push(`      # ${name}: left out, the plan schema does not accept this name yet (${comment})`);
    else lines.push(`      ${name}: { table: ${name} }   # ${comment}`);
  };
  table(c.root, 'DECIDE: the service\'s table and column names (columns: { old: new }, drop: [...])');
  for (const o of c.owned) table(o.table, `owned by ${c.root}; or fold it into ${c.root} with embed (see the shop's order_items)`);
  for (const r of c.references) {
    if (excluded.has(`${c.name}.${r}`)) table(r, 'reference data this context reads');
    else lines.push(`      ${r}: { table: ${r}, reference: true }   # reference data this context reads: synced one way, monolith → service`);
  }
  if (Object.keys(c.examples).length) {
    lines.push('    load:');
    lines.push('      examples:   # from the OpenAPI document; DECIDE: real values (`{{key table.column}}` takes a real key)');
    for (const [k, v] of Object.entries(c.examples)) lines.push(`        ${q(k)}: ${JSON.stringify(v)}`);
  }
  return lines;
}

export function draftPlan(p: Proposal, monolith: { url?: string; databaseUrl: string }, source: string, excluded = new Set<string>()): string {
  const lines: string[] = [];
  lines.push(`# Draft migration plan made by \`strangler init\` from ${source}.`);
  lines.push('# Every "DECIDE:" is a choice the toolkit cannot make for you. Check it with `strangler plan check --plan <this file>`.');
  lines.push('version: 1');
  lines.push('');
  lines.push('monolith:');
  lines.push(`  url: \${MONOLITH_URL:-${monolith.url ?? 'http://127.0.0.1:3000'}}   # DECIDE: where the monolith answers HTTP`);
  lines.push(`  database: \${MONOLITH_DATABASE:-${withoutPassword(monolith.databaseUrl)}}   # the password comes from MONOLITH_DATABASE or PGPASSWORD, never from this file`);
  lines.push('');
  if (p.couplings.length) {
    lines.push('# Coupling to break: foreign keys between two contexts. After extraction the service cannot join or enforce them;');
    lines.push('# replace each with an id the service keeps and an API call or an event (MIGRATION.md, the workshop).');
    for (const c of p.couplings) lines.push(`#   ${c.fk.from}.${c.fk.fromColumns.join(',')} → ${c.fk.to}.${c.fk.toColumns.join(',')}   (${c.fromContext} → ${c.toContext})`);
    lines.push('');
  }
  for (const l of p.leftOut) lines.push(`# not in any context: ${l.table} — ${l.why}`);
  for (const pr of p.problems) lines.push(`# PROBLEM: ${pr}`);
  for (const r of p.unassignedRoutes) lines.push(`# route matched no context, stays on the monolith: ${r}`);
  if (p.leftOut.length || p.problems.length || p.unassignedRoutes.length) lines.push('');
  lines.push('# DECIDE: which contexts to extract, in what order (leaves first), and which to merge.');
  lines.push('contexts:');
  if (!p.contexts.length) {
    lines.push('  # PROBLEM: no table could become a context; this placeholder keeps the draft loadable.');
    lines.push('  placeholder:');
    lines.push(`    service: { url: "http://127.0.0.1:4101", database: ${q(serverOf(monolith.databaseUrl, 'placeholder'))} }`);
    lines.push('    routes: ["* /api/placeholder"]');
  }
  p.contexts.forEach((c, i) => lines.push(...contextYaml(c, i, monolith.databaseUrl, excluded), ''));
  lines.push('defaults:');
  lines.push('  canarySteps: [10, 50]');
  return `${lines.join('\n')}\n`;
}

/**
 * The draft, loaded with the plan loader; a table entry the loader refuses (a name it cannot take yet) becomes a
 * comment and the draft is made again, so the file always loads.
 */
export function validDraft(p: Proposal, monolith: { url?: string; databaseUrl: string }, source: string): { text: string; excluded: string[] } {
  const excluded = new Set<string>();
  for (let round = 0; round < 5; round++) {
    const text = draftPlan(p, monolith, source, excluded);
    try {
      parsePlan(text, {}, 'draft plan');
      return { text, excluded: [...excluded] };
    } catch (err) {
      const message = (err as Error).message;
      const bad = [...message.matchAll(/contexts\.([a-z0-9_]+)\.tables\.([^:;.]+)/g)].map((m) => `${m[1]}.${m[2]}`);
      if (!bad.length || bad.every((b) => excluded.has(b))) throw new Error(`the draft does not load (a bug in init): ${message}`);
      for (const b of bad) excluded.add(b);
    }
  }
  throw new Error('the draft does not load after leaving out the tables the plan refused');
}
