import type { ContextStatus } from '../../control/contracts';
import { CliError } from '../cli/errors';
import { requestJson, type StackConnection } from '../cli/stack-client';
import { readStackState } from '../stack/home';

/** What a service's `GET /_workshop` answers (lib/http/workshop.ts). */
export interface ServiceSwitches {
  service: string;
  enabled: boolean;
  fault: { kind: string; ms?: number; since: string } | null;
  bugs: { name: string; description: string; on: boolean }[];
}

export const FAULT_KINDS = ['slow', 'down', 'errors', 'ok'] as const;

/** `strangler up --workshop` records it in the stack's state; a stack started elsewhere says so with STRANGLER_WORKSHOP=1. */
export function workshopMode(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.STRANGLER_WORKSHOP === '1' || readStackState()?.workshop === true;
}

export function requireWorkshopMode(): void {
  if (!workshopMode()) {
    throw new CliError('the stack does not run in workshop mode: faults and planted bugs are refused (stop it and start it with `npx strangler up --workshop`)');
  }
}

/**
 * Talks to the `/_workshop` switches of each context's service, where the faults and planted bugs live: the
 * toolkit itself knows no bug by name, it asks the services which they have.
 */
export class Switches {
  private services?: Promise<Map<string, string>>;

  constructor(
    private readonly conn: StackConnection,
    /** The facade's status: its service URLs are the ones traffic reaches (the CLI's copy of the plan may not know moved ports). */
    private readonly status: () => Promise<ContextStatus[]>,
  ) {}

  private async url(context: string, path = ''): Promise<string> {
    this.services ??= this.status().then((all) => new Map(all.map((c) => [c.name, c.service.url])));
    const services = await this.services;
    const base = services.get(context);
    if (!base) throw new CliError(`unknown context ${JSON.stringify(context)}; the facade knows: ${[...services.keys()].join(', ')}`);
    return `${base.replace(/\/$/, '')}/_workshop${path}`;
  }

  /** Every context's switches; a service without them (or unreachable) is left out. */
  async all(): Promise<Record<string, ServiceSwitches>> {
    const contexts = [...(await this.status()).map((c) => c.name)];
    const pairs = await Promise.all(
      contexts.map(async (context) => {
        const s = await requestJson<ServiceSwitches>(await this.url(context), { token: this.conn.adminToken, what: `${context} service`, timeoutMs: 3_000 }).catch(() => undefined);
        return [context, s] as const;
      }),
    );
    return Object.fromEntries(pairs.filter((p): p is readonly [string, ServiceSwitches] => Boolean(p[1])));
  }

  async fault(context: string, kind: string, ms?: number): Promise<ServiceSwitches> {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new CliError(`fault must be one of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
    return requestJson<ServiceSwitches>(await this.url(context, '/fault'), { method: 'POST', token: this.conn.adminToken, body: { fault: kind, ...(ms !== undefined ? { ms } : {}) }, what: `${context} service` });
  }

  async bug(name: string, on: boolean): Promise<{ context: string; switches: ServiceSwitches }> {
    const all = await this.all();
    const owner = Object.entries(all).find(([, s]) => s.bugs.some((b) => b.name === name));
    if (!owner) {
      const known = Object.values(all).flatMap((s) => s.bugs.map((b) => b.name));
      throw new CliError(`no service has a planted bug ${JSON.stringify(name)}; known: ${known.join(', ') || 'none (are the services running in workshop mode?)'}`);
    }
    const [context] = owner;
    const switches = await requestJson<ServiceSwitches>(await this.url(context, `/bugs/${encodeURIComponent(name)}`), { method: 'POST', token: this.conn.adminToken, body: { on }, what: `${context} service` });
    return { context, switches };
  }
}
