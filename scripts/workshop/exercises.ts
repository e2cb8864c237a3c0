import fs from 'node:fs';
import path from 'node:path';
import type { ContextStatus, PipelineStatus, ReconcileSummary } from '../../control/contracts';
import { loadPlan, RouteTable, STAGES, type Plan, type Stage } from '../../control/plan';
import { ContextMapping } from '../../migrations/cdc/mapping';
import type { ServiceSwitches } from './switches';

/**
 * The workshop of MIGRATION.md section 8, exercise by exercise, each with the checks `strangler workshop check N`
 * runs against the participant's own stack. The exercises are the shop's (the sample plan); the checks read only the
 * toolkit's status APIs, the facade's answers, reconcile, the services' workshop switches and files the exercise
 * asks for.
 */

/** What a check may read; one per `check` run, so the facade's status is fetched once. */
export interface Probe {
  context(name: string): Promise<ContextStatus>;
  pipeline(name: string): Promise<PipelineStatus | undefined>;
  reconcile(context: string): Promise<ReconcileSummary>;
  /** Which side answered a GET through the facade for this user (`x-strangler-upstream`). */
  upstreamFor(pathAndQuery: string, userId: string): Promise<string | null>;
  /** Every service's workshop switches (empty outside workshop mode). */
  switches(): Promise<Record<string, ServiceSwitches>>;
  workshopMode: boolean;
  /** Where the participant runs the commands (files the exercises write land here). */
  cwd: string;
}

export interface CheckResult {
  pass: boolean;
  detail: string;
}

export interface Check {
  /** What must hold, as a sentence: printed with ✓ or ✗. */
  label: string;
  /** What to do when it does not. */
  hint: string;
  /** Runs reconcile (seconds): `strangler workshop` (the list) leaves these to `check`. */
  costly?: boolean;
  run(probe: Probe): Promise<CheckResult>;
}

export interface Exercise {
  n: number;
  title: string;
  goal: string;
  /** Which kind of context it is about: the lesson about writes needs a context that takes writes. */
  path: 'plan' | 'read-only' | 'writes';
  checks: Check[];
}

const order = (s: Stage) => STAGES.indexOf(s);
const stageText = (c: ContextStatus) => (c.stage === 'canary' ? `canary ${c.percent}%` : c.stage);
const result = (pass: boolean, detail: string): CheckResult => ({ pass, detail });

function atLeast(context: string, stage: Stage, hint: string): Check {
  return {
    label: `${context} is at ${stage} or later`,
    hint,
    run: async (p) => {
      const c = await p.context(context);
      return result(order(c.stage) >= order(stage), `${context} is at ${stageText(c)}`);
    },
  };
}

function exactly(context: string, stage: Stage, hint: string): Check {
  return {
    label: `${context} is at ${stage}`,
    hint,
    run: async (p) => {
      const c = await p.context(context);
      return result(c.stage === stage, `${context} is at ${stageText(c)}`);
    },
  };
}

function reconciled(context: string): Check {
  return {
    label: `reconcile finds ${context}'s two databases equal`,
    hint: `run \`npx strangler reconcile ${context}\`: it names the missing, extra or different rows; wait for both pipelines to show lag 0 and check again`,
    costly: true,
    run: async (p) => {
      const r = await p.reconcile(context);
      return result(r.clean, r.summary);
    },
  };
}

function servedBy(context: string, pathAndQuery: string, userId: string, hint: string): Check {
  return {
    label: `GET ${pathAndQuery} (x-user-id: ${userId}) through the facade is answered by the ${context} service`,
    hint,
    run: async (p) => {
      const upstream = await p.upstreamFor(pathAndQuery, userId);
      return result(upstream === context, `x-strangler-upstream: ${upstream ?? '(none)'}`);
    },
  };
}

function shadowClean(context: string, minCompared: number, maxRate: number, hint: string): Check {
  return {
    label: `${context}'s shadow has ≥ ${minCompared} comparisons and a diff rate under ${maxRate * 100} %`,
    hint,
    run: async (p) => {
      const { shadow } = await p.context(context);
      const pass = shadow.compared >= minCompared && shadow.diffRate < maxRate;
      return result(pass, `${shadow.compared} compared, diff rate ${(shadow.diffRate * 100).toFixed(2)} %`);
    },
  };
}

function bugOff(name: string): Check {
  return {
    label: `the planted bug ${name} is off`,
    hint: `when \`npx strangler diffs\` has shown you what differs, switch it off: \`npx strangler workshop bug ${name} off\``,
    run: async (p) => {
      if (!p.workshopMode) return result(false, 'the stack does not run in workshop mode (`npx strangler up --workshop`)');
      const owner = Object.values(await p.switches()).find((s) => s.bugs.some((b) => b.name === name));
      const bug = owner?.bugs.find((b) => b.name === name);
      if (!bug) return result(false, `no service reports a bug ${name}`);
      return result(!bug.on, `${owner!.service}: ${name} is ${bug.on ? 'on' : 'off'}`);
    },
  };
}

function noFault(context: string): Check {
  return {
    label: `the ${context} service has no fault switched on`,
    hint: `mend it: \`npx strangler workshop fault ${context} ok\``,
    run: async (p) => {
      const s = (await p.switches())[context];
      if (!s) return result(!p.workshopMode, p.workshopMode ? `the ${context} service did not answer` : 'not in workshop mode: no faults');
      return result(!s.fault, s.fault ? `fault ${s.fault.kind} since ${s.fault.since}` : 'no fault');
    },
  };
}

function planFile(p: Probe, file: string): { plan?: Plan; error?: string } {
  const full = path.resolve(p.cwd, file);
  if (!fs.existsSync(full)) return { error: `${file} does not exist in ${p.cwd}` };
  try {
    return { plan: loadPlan(full, {}) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The invoices context of exercise 6: routes, mapping and the team's numbers. */
function invoicesEntry(plan: Plan): CheckResult {
  const inv = plan.contexts.invoices;
  if (!inv) return result(false, 'no context invoices in the plan yet');
  try {
    new ContextMapping(inv.tables);
  } catch (err) {
    return result(false, `the tables mapping: ${(err as Error).message}`);
  }
  const table = new RouteTable(Object.entries(plan.contexts).flatMap(([name, c]) => c.routes.map((pattern) => ({ pattern, value: name }))));
  const owner = (m: string, u: string) => table.match(m, u)?.value ?? 'monolith';
  const wrong = [
    owner('GET', '/api/customers/7/invoices') !== 'invoices' && 'GET /api/customers/7/invoices should go to invoices',
    owner('GET', '/api/customers/7') !== 'monolith' && 'GET /api/customers/7 should stay on the monolith',
    owner('PATCH', '/api/invoices/1') !== 'invoices' && 'PATCH /api/invoices/1 should go to invoices',
    JSON.stringify(inv.canarySteps) !== '[5,25,50]' && `canarySteps is ${JSON.stringify(inv.canarySteps)}, not [5,25,50]`,
    inv.gates?.canary?.maxDiffRate !== 0.001 && 'gates.canary.maxDiffRate is not 0.001',
    inv.autoRollback?.maxErrorRate !== 0.02 && 'autoRollback.maxErrorRate is not 0.02',
  ].filter((w): w is string => Boolean(w));
  return result(wrong.length === 0, wrong.length ? wrong.join('; ') : 'routes, mapping, canary steps, gate and rollback threshold as asked');
}

const SHOP_CONTEXTS = 'notifications,orders,payments,users';

export const EXERCISES: Exercise[] = [
  {
    n: 0,
    title: 'Draft the decomposition from the database',
    goal: 'see where the monolith\'s own schema says the seams are: `strangler init` on the shop\'s database',
    path: 'plan',
    checks: [
      {
        label: `draft.plan.yaml loads and proposes the shop's four contexts (${SHOP_CONTEXTS})`,
        hint: 'run `npx strangler init --database postgres://postgres:postgres@127.0.0.1:5433/monolith --out draft.plan.yaml` in this folder',
        run: async (p) => {
          const { plan, error } = planFile(p, 'draft.plan.yaml');
          if (!plan) return result(false, error!);
          const names = Object.keys(plan.contexts).sort().join(',');
          return result(names === SHOP_CONTEXTS, `the draft proposes ${names}`);
        },
      },
    ],
  },
  {
    n: 1,
    title: 'Extract notifications',
    goal: 'take a read-only leaf context to cutover, passing every gate honestly',
    path: 'read-only',
    checks: [
      atLeast('notifications', 'cutover', 'advance it stage by stage (`npx strangler advance notifications`), with `npx strangler load --context notifications --duration 20` between the moves'),
      servedBy('notifications', '/api/notifications?userId=1', '1', 'at cutover every request goes to the service; if the stage is right, wait 2 s for the facade to see the flags'),
      reconciled('notifications'),
    ],
  },
  {
    n: 2,
    title: 'Find the planted shadow diff',
    goal: 'use shadow, on a context that takes writes, to catch a bug the contract suite misses',
    path: 'writes',
    checks: [
      atLeast('users', 'shadow', '`npx strangler advance users` takes it to shadow'),
      bugOff('users-name-truncated'),
      shadowClean('users', 100, 0.01, 'after the bug is off: `npx strangler diffs reset users`, then at least 100 reads through the facade (MIGRATION.md, exercise 2, step 5); `npx strangler diffs users --group` names what still differs'),
    ],
  },
  {
    n: 3,
    title: 'Take users through every stage under load',
    goal: 'see each stage\'s effect on traffic and data, writes included, while requests keep flowing',
    path: 'writes',
    checks: [
      exactly('users', 'retired', 'advance users to canary 10 % and 50 %, send `npx strangler load --context users --duration 40 --rps 10`, then advance to cutover and retired'),
      servedBy('users', '/api/users/5', '5', 'at retired the service answers every request; wait 2 s after the move and check again'),
      reconciled('users'),
    ],
  },
  {
    n: 4,
    title: 'A failing service during canary: fallback and automatic rollback',
    goal: 'on a read-only context, watch the breaker, the read fallback and the automatic rollback do their work',
    path: 'read-only',
    checks: [
      {
        label: 'the facade rolled payments back on its own, for its service error rate',
        hint: 'take payments to canary 50 %, `npx strangler workshop fault payments down`, and send reads (`npx strangler load --context payments --duration 20`)',
        run: async (p) => {
          const c = await p.context('payments');
          const r = c.lastRollback;
          return result(Boolean(r && /error rate/.test(r.reason)), r ? `automatic rollback at ${r.at}: ${r.reason}` : 'no automatic rollback since the facade started');
        },
      },
      exactly('payments', 'shadow', 'the automatic rollback takes canary straight to shadow; if you moved it since, `npx strangler stage payments shadow`'),
      noFault('payments'),
    ],
  },
  {
    n: 5,
    title: 'Roll back under load, and prove nothing was lost',
    goal: 'on the context that takes writes: a rollback moves traffic first and loses no write made in the service',
    path: 'writes',
    checks: [
      exactly('users', 'canary', 'roll users back twice (`npx strangler rollback users`): retired → cutover → canary 50 %'),
      {
        label: 'the users reverse pipeline streams with lag under 5 s, and has carried the service\'s writes to the monolith',
        hint: 'write through the facade while users is at cutover (the load does), then wait for the reverse pipeline on the dashboard or in `npx strangler status`',
        run: async (p) => {
          const r = await p.pipeline('users-reverse');
          if (!r) return result(false, 'no users-reverse pipeline');
          const applied = Number((r.sink as { applied?: number } | null)?.applied ?? 0);
          return result(r.state === 'streaming' && (r.lagMs ?? 0) <= 5000 && applied > 0, `users-reverse ${r.state}, lag ${r.lagMs ?? '?'} ms, ${applied} change(s) applied to the monolith`);
        },
      },
      reconciled('users'),
    ],
  },
  {
    n: 6,
    title: 'Write a plan entry for a new context',
    goal: 'describe a context of your own monolith (invoices) the way the shop\'s plan does',
    path: 'plan',
    checks: [
      {
        label: 'my.plan.yaml has an invoices context with the routes, mapping and numbers the team asked for',
        hint: 'copy migrations/shop.plan.yaml to my.plan.yaml and add the context (MIGRATION.md section 6 and the plan\'s comments show the syntax)',
        run: async (p) => {
          const { plan, error } = planFile(p, 'my.plan.yaml');
          return plan ? invoicesEntry(plan) : result(false, error!);
        },
      },
    ],
  },
];
