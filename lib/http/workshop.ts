import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { controlApi } from './control-api';
import { errorBody } from './errors';

/**
 * Run-time switches for a workshop, so a facilitator can break a service and mend it without a restart or a pid:
 * a fault (the service slow, unreachable or failing) and planted bugs (behaviour differences a service declares
 * and its code consults). Each service declares its own bugs; this module knows none of them.
 *
 * Off unless the process is started in workshop mode (`strangler up --workshop` sets `STRANGLER_WORKSHOP=1` and the
 * admin token); outside it every switch answers 403 and nothing is ever injected.
 */
export const WORKSHOP_PATH = '/_workshop';

export const FAULTS = ['slow', 'down', 'errors', 'ok'] as const;
export type FaultKind = (typeof FAULTS)[number];

/** Long enough that the facade's upstream timeout (10 s) gives up first: the service looks frozen. */
export const DEFAULT_SLOW_MS = 12_000;

export interface PlantedBug {
  name: string;
  /** What differs, for the facilitator (the participant finds it through shadow). */
  description: string;
}

export interface WorkshopState {
  service: string;
  enabled: boolean;
  fault: { kind: Exclude<FaultKind, 'ok'>; ms?: number; since: string } | null;
  bugs: (PlantedBug & { on: boolean })[];
}

const faultBody = z.object({ fault: z.enum(FAULTS), ms: z.number().int().min(1).max(60_000).optional() }).strict();
const bugBody = z.object({ on: z.boolean() }).strict();

export class Workshop {
  private fault: WorkshopState['fault'] = null;
  private readonly on = new Set<string>();

  constructor(
    readonly options: { service: string; enabled: boolean; token?: string; bugs?: PlantedBug[] },
  ) {}

  /** Whether a planted bug is switched on; always false outside workshop mode. */
  bug(name: string): boolean {
    return this.options.enabled && this.on.has(name);
  }

  state(): WorkshopState {
    return {
      service: this.options.service,
      enabled: this.options.enabled,
      fault: this.fault,
      bugs: (this.options.bugs ?? []).map((b) => ({ ...b, on: this.on.has(b.name) })),
    };
  }

  /** One line per active switch: `/health` carries them, so the facade's dashboard can show them. */
  notices(): string[] {
    const out = this.fault ? [`workshop fault: ${this.fault.kind}${this.fault.ms ? ` ${this.fault.ms} ms` : ''} since ${this.fault.since}`] : [];
    for (const name of this.on) out.push(`workshop bug on: ${name}`);
    return out;
  }

  /** Whether `/health` should fail: an unreachable or failing service is not healthy, a slow one still is. */
  unhealthy(): boolean {
    return this.fault?.kind === 'down' || this.fault?.kind === 'errors';
  }

  /** The switches' API, behind the admin token; 403 outside workshop mode. */
  routes(): Router {
    const router = express.Router();
    const { enabled, token } = this.options;
    router.use(WORKSHOP_PATH, (req, res, next) => {
      if (!enabled || !token) {
        res.status(403).json(errorBody('workshop_mode_off', `${this.options.service}: faults and planted bugs are refused outside workshop mode (start the stack with \`strangler up --workshop\`)`));
        return;
      }
      next();
    });
    if (!enabled || !token) return router;
    router.use(WORKSHOP_PATH, controlApi({ token, openPaths: [] }), express.json({ limit: '4kb' }));
    router.get(WORKSHOP_PATH, (_req, res) => {
      res.json(this.state());
    });
    router.post(`${WORKSHOP_PATH}/fault`, (req, res) => {
      const parsed = faultBody.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json(errorBody('invalid_fault', `body must be {"fault": "${FAULTS.join('|')}", "ms"?: 1–60000}: ${parsed.error.issues[0]?.message}`));
        return;
      }
      const { fault, ms } = parsed.data;
      this.fault = fault === 'ok' ? null : { kind: fault, ...(fault === 'slow' ? { ms: ms ?? DEFAULT_SLOW_MS } : {}), since: new Date().toISOString() };
      res.json(this.state());
    });
    router.post(`${WORKSHOP_PATH}/bugs/:name`, (req, res) => {
      const name = String(req.params.name);
      if (!(this.options.bugs ?? []).some((b) => b.name === name)) {
        res.status(404).json(errorBody('unknown_bug', `${this.options.service} has no planted bug ${JSON.stringify(name)}`));
        return;
      }
      const parsed = bugBody.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json(errorBody('invalid_bug_switch', 'body must be {"on": true|false}'));
        return;
      }
      if (parsed.data.on) this.on.add(name);
      else this.on.delete(name);
      res.json(this.state());
    });
    return router;
  }

  /**
   * Injects the fault into every other request (the switches' API, `/health` and `/metrics` excepted): `slow`
   * holds the answer back, `down` drops the connection without a word (as a dead process would), `errors` answers
   * 500.
   */
  inject(): RequestHandler {
    return (req, res, next) => {
      const fault = this.fault;
      if (!fault || req.path === '/health' || req.path === '/metrics' || req.path.startsWith(WORKSHOP_PATH)) {
        next();
        return;
      }
      if (fault.kind === 'slow') {
        const timer = setTimeout(next, fault.ms ?? DEFAULT_SLOW_MS);
        res.once('close', () => clearTimeout(timer));
        return;
      }
      if (fault.kind === 'down') {
        req.socket.destroy();
        return;
      }
      res.status(500).json(errorBody('workshop_fault', `${this.options.service} is failing on purpose (workshop fault "errors")`));
    };
  }
}

/** The two variables `strangler up --workshop` gives a service. */
export const workshopConfig = {
  STRANGLER_WORKSHOP: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['0', '1']).default('0')),
  STRANGLER_ADMIN_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'must be at least 16 characters').optional()),
};

export function workshopFromConfig(service: string, config: { STRANGLER_WORKSHOP: '0' | '1'; STRANGLER_ADMIN_TOKEN?: string }, bugs: PlantedBug[] = []): Workshop {
  return new Workshop({ service, enabled: config.STRANGLER_WORKSHOP === '1' && Boolean(config.STRANGLER_ADMIN_TOKEN), token: config.STRANGLER_ADMIN_TOKEN, bugs });
}
