import type { PoolClient } from 'pg';
import type { ChangeEvent, Row } from '../events/envelope';
import { RowMappingError, type EmbedMapping, type RowsMapping } from '../mapping';
import { serviceRowOf, targetTable, type ApplyContext, type ApplyResult, type Change } from './apply-context';
import { localWriteAfter, outcomeOf, settle } from './conflicts';
import * as embedded from './embedded';
import { PoisonEventError } from './errors';
import { deleteByKey, keyOf, qualified, run, upsert } from './sql';

/** Monolith → service: a change of a monolith table becomes a service row change, or a change of a parent's array. */
export async function applyForward(client: PoolClient, ctx: ApplyContext, change: Change): Promise<ApplyResult> {
  const table = change.event.source.table;
  const m = ctx.mapping.forMonolithTable(table);
  if (!m) throw new PoisonEventError('unknown_table', `the plan does not map monolith table ${table}`);
  return m.kind === 'rows' ? applyRows(client, ctx, m, change) : applyEmbedded(client, ctx, m, change);
}

const embedTargets = (ctx: ApplyContext, serviceTable: string): embedded.EmbedTarget[] =>
  ctx.mapping.embedsInto(serviceTable).map((embed) => ({ pipeline: ctx.pipeline, embed, parent: targetTable(ctx, serviceTable) }));

async function applyRows(client: PoolClient, ctx: ApplyContext, m: RowsMapping, { event, key }: Change): Promise<ApplyResult> {
  const target = targetTable(ctx, m.serviceTable);
  const embeds = embedTargets(ctx, m.serviceTable);
  if (event.op === 't') {
    await run(client, `DELETE FROM ${qualified(target)}`);
    for (const t of embeds) await run(client, 'DELETE FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2', [t.pipeline, t.embed.monolithTable]);
    return { status: 'applied' };
  }
  const source = event.op === 'd' ? (event.before ?? key) : event.after;
  if (!source) throw new RowMappingError(m.monolithTable, `op ${event.op} carries no row`);
  const row = serviceRowOf(ctx, m, target, source);
  const targetKey = keyOf(target, event.op === 'd' ? { ...row, ...serviceRowOf(ctx, m, target, key ?? {}) } : row);
  const newer = await localWriteAfter(client, target.name, targetKey, event.source.ts_ms);
  const met = newer === null ? null : await settle(client, ctx, target, targetKey, { currentTs: newer, sourceTs: event.source.ts_ms, incoming: event.op === 'd' ? null : row });
  const outcome = outcomeOf(ctx, met);
  if (outcome.status === 'conflict') return outcome;

  if (event.op === 'd') {
    await deleteByKey(client, target, targetKey);
    for (const t of embeds) await embedded.forgetParent(client, t, targetKey);
  } else {
    await upsert(client, target, row, embeds.map((t) => embedded.parkedChildren(t, targetKey)));
  }
  return outcome;
}

async function applyEmbedded(client: PoolClient, ctx: ApplyContext, m: EmbedMapping, { event, key }: Change): Promise<ApplyResult> {
  const t: embedded.EmbedTarget = { pipeline: ctx.pipeline, embed: m, parent: targetTable(ctx, m.serviceTable) };
  if (event.op === 't') {
    await embedded.clearAll(client, t);
    return { status: 'applied' };
  }
  const childKey = key ?? null;
  if (!childKey) throw new RowMappingError(m.monolithTable, 'a change of an embedded row needs its key');

  if (event.op === 'd') {
    const known = await embedded.findChild(client, t, childKey);
    const parentKey = known?.parentKey ?? (event.before ? embedded.parentKeyOf(t, event.before) : null);
    if (!parentKey) return { status: 'ignored', why: `${m.monolithTable} ${JSON.stringify(childKey)}: parent unknown, nothing to remove` };
    const outcome = await conflict(client, ctx, t, parentKey, event, null);
    if (outcome.status === 'conflict') return outcome;
    const { placeholders } = await embedded.resync(client, t, parentKey);
    const removed = await embedded.removeChild(client, t, childKey);
    if (!removed && placeholders && m.orderBy && event.before) await embedded.dropPlaceholder(client, t, parentKey, event.before[m.orderBy]);
    await embedded.rebuild(client, t, parentKey);
    return outcome;
  }

  const child = event.after!;
  const parentKey = embedded.parentKeyOf(t, child);
  if (!parentKey) throw new RowMappingError(m.monolithTable, `no value for ${m.parentKey}, the parent's key`);
  const element = ctx.mapping.toElement(m, child);
  const outcome = await conflict(client, ctx, t, parentKey, event, element);
  if (outcome.status === 'conflict') return outcome;
  const sortValue = m.orderBy ? child[m.orderBy] : null;
  const { placeholders } = await embedded.resync(client, t, parentKey);
  if (placeholders && m.orderBy) await embedded.dropPlaceholder(client, t, parentKey, sortValue);
  const previous = await embedded.putChild(client, t, childKey, parentKey, sortValue, element);
  await embedded.rebuild(client, t, parentKey);
  if (previous && JSON.stringify(previous) !== JSON.stringify(parentKey)) await embedded.rebuild(client, t, previous);
  return outcome;
}

/** A child's conflict unit is the parent row its array lives in; the change's version is the child's element. */
async function conflict(client: PoolClient, ctx: ApplyContext, t: embedded.EmbedTarget, parentKey: Row, event: ChangeEvent, element: Row | null): Promise<ApplyResult> {
  const newer = await localWriteAfter(client, t.parent.name, parentKey, event.source.ts_ms);
  return outcomeOf(ctx, newer === null ? null : await settle(client, ctx, t.parent, parentKey, { currentTs: newer, sourceTs: event.source.ts_ms, incoming: element }));
}
