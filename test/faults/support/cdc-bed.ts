import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { dropDatabase, ensureDatabase } from '../../../lib/db/admin';
import { migrate } from '../../../lib/db/migrator';
import { createSequelize } from '../../../lib/db/sequelize';
import type { Migration } from '../../../lib/db/migrator';
import { migrations as usersMigrations } from '../../../extracted/users/src/db/migrations';
import { testPlan } from '../../../facade/testing';
import { pipelinesFor, type PipelineDefinition } from '../../../migrations/cdc/pipeline/definition';
import { dropPipelineSource } from '../../../migrations/cdc/source';
import { migrations as monolithMigrations } from '../../../monolith/src/db/migrations';
import { testServerUrl } from '../../harness/database';
import { ChangeBurst } from './change-burst';

export interface CdcBed {
  /** The plan's forward `users` pipeline (monolith.users → users-service.users, `name` → `full_name`). */
  definition: PipelineDefinition;
  brokers: string;
  monolith: Pool;
  service: Pool;
  burst: ChangeBurst;
  /** Drops the pipeline's slot and publication, then both databases. Stop the source and sink first. */
  drop(): Promise<void>;
}

export async function createMigrated(serverUrl: string, prefix: string, migrations: Migration[]): Promise<{ url: string; name: string }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const url = await ensureDatabase(serverUrl, name);
  const sequelize = createSequelize(url);
  try {
    await migrate(sequelize, migrations);
  } finally {
    await sequelize.close();
  }
  return { url, name };
}

/**
 * Every row image the target's `users` table takes, kept by a trigger that fires for the sink's writes too (`ENABLE
 * ALWAYS`: the sink writes in replica mode, where ordinary triggers are off). Its rows commit or roll back with the
 * sink's transaction, so the table lists exactly what was applied, in order.
 */
export const AUDIT = `
  CREATE TABLE fault_audit (seq bigserial PRIMARY KEY, op char(1) NOT NULL, id integer NOT NULL, full_name text NOT NULL);
  CREATE FUNCTION fault_audit() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      INSERT INTO fault_audit (op, id, full_name) VALUES ('d', OLD.id, OLD.full_name);
      RETURN OLD;
    END IF;
    INSERT INTO fault_audit (op, id, full_name) VALUES (lower(left(TG_OP, 1)), NEW.id, NEW.full_name);
    RETURN NEW;
  END $$;
  CREATE TRIGGER fault_audit AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION fault_audit();
  ALTER TABLE users ENABLE ALWAYS TRIGGER fault_audit;`;

/**
 * A monolith database and a users-service database (both migrated by their own migrations), the forward users
 * pipeline between them with names no other test file shares (slots are per server, topics per broker), an audit
 * of what the sink applies, and a seeded change generator on the monolith.
 */
export async function createCdcBed(options: { brokers: string; serviceServerUrl?: string; seedRows?: number }): Promise<CdcBed> {
  const server = testServerUrl();
  const serviceServer = options.serviceServerUrl ?? server;
  const [mono, svc] = await Promise.all([createMigrated(server, 'fault_mono', monolithMigrations), createMigrated(serviceServer, 'fault_users', usersMigrations)]);
  const plan = testPlan({ monolith: 'http://127.0.0.1:9' });
  plan.monolith.database = mono.url;
  plan.contexts.users.service.database = svc.url;
  const suffix = randomBytes(4).toString('hex');
  const base = pipelinesFor(plan, 'users', server).forward;
  const definition: PipelineDefinition = {
    ...base,
    topicPrefix: `fault${suffix}`,
    slot: `fault_${suffix}_users_forward`,
    publication: `fault_${suffix}_users_forward`,
    consumerGroup: `fault-${suffix}-users-forward-sink`,
    deadLetterTopic: `fault.dlq.${suffix}.users-forward`,
  };
  const monolith = new Pool({ connectionString: mono.url, max: 3 });
  const service = new Pool({ connectionString: svc.url, max: 2 });
  // A stopped target server cuts idle connections; the pool must not crash the test process for it.
  service.on('error', () => undefined);
  monolith.on('error', () => undefined);
  await service.query(AUDIT);
  const burst = new ChangeBurst(monolith);
  await burst.seed(options.seedRows ?? 2_000);
  return {
    definition,
    brokers: options.brokers,
    monolith,
    service,
    burst,
    async drop() {
      await burst.stop();
      await dropPipelineSource(definition).catch(() => undefined);
      await Promise.allSettled([monolith.end(), service.end()]);
      await Promise.allSettled([dropDatabase(server, mono.name), dropDatabase(serviceServer, svc.name)]);
    },
  };
}
