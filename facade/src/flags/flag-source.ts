import { EventEmitter } from 'node:events';
import { Unleash, type Context } from 'unleash-client';
import type { ClientFeaturesResponse } from 'unleash-client/lib/feature';
import type { Logger } from '../../../lib/logger';
import { deriveStage, flagNames, type ContextFlags, type FlagState, type Stage } from '../../../control/plan';
import { BackupFile } from './backup-file';
import type { FlagHealth } from '../../../control/contracts';

export type { FlagHealth } from '../../../control/contracts';

export interface ContextState {
  stage: Stage;
  /** Share of traffic (0–100) the route flag sends to the service. */
  percent: number;
  /** Share of monolith-served requests mirrored to the service (0–100). */
  sampleRate: number;
  flags: ContextFlags;
}

/** What the router needs from the flags, so routing logic can be tested without a server. */
export interface Flags {
  state(context: string): ContextState;
  routeToService(context: string, userId: string | undefined): boolean;
  sampleShadow(context: string, userId: string | undefined): boolean;
  health(): { state: FlagHealth; lastSyncAt?: string; lastError?: string };
  on(event: 'changed', listener: () => void): unknown;
  /** Resolves once the flags are known (from Unleash or the backup file), or it is clear none can be. */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const MONOLITH: ContextState = { stage: 'monolith', percent: 0, sampleRate: 0, flags: {} };

interface Definition {
  enabled: boolean;
  strategies?: { name: string; parameters?: Record<string, unknown>; disabled?: boolean }[];
}

/** An enabled flag's effective share: the largest rollout among its active strategies (no strategy = everyone). */
export function flagState(def: Definition | undefined): FlagState | undefined {
  if (!def) return undefined;
  const active = (def.strategies ?? []).filter((s) => !s.disabled);
  if (active.length === 0) return { enabled: def.enabled, rollout: 100 };
  let rollout = 0;
  for (const s of active) {
    if (s.name === 'flexibleRollout' || s.name === 'gradualRolloutRandom' || s.name === 'gradualRolloutUserId') {
      const p = Number(s.parameters?.rollout ?? s.parameters?.percentage ?? 0);
      rollout = Math.max(rollout, Number.isFinite(p) ? Math.min(100, Math.max(0, p)) : 0);
    } else {
      rollout = 100;
    }
  }
  return { enabled: def.enabled, rollout };
}

/**
 * Stages from Unleash, evaluated in-process by unleash-client. Each context's derived state is cached and
 * rebuilt only when the flags change, so a context at 0 % or 100 % costs no per-request evaluation; only a
 * partial rollout asks unleash-client (sticky on the user).
 */
export class UnleashFlags extends EventEmitter implements Flags {
  private readonly client: Unleash;
  private readonly states = new Map<string, ContextState>();
  private status: { state: FlagHealth; lastSyncAt?: string; lastError?: string } = { state: 'none' };
  private readonly loaded: Promise<void>;

  constructor(
    private readonly contexts: string[],
    options: { url: string; clientToken?: string; refreshMs: number; backupDir: string; logger: Logger; appName?: string },
  ) {
    super();
    const appName = options.appName ?? 'strangler-facade';
    const backup = new BackupFile<ClientFeaturesResponse>(options.backupDir);
    const backedUp = backup.read(appName)?.features?.length ?? 0;
    this.client = new Unleash({
      url: options.url.replace(/\/?$/, '/api/'),
      appName,
      refreshInterval: options.refreshMs,
      customHeaders: options.clientToken ? { Authorization: options.clientToken } : undefined,
      storageProvider: backup,
      metricsInterval: 10_000,
      skipInstanceCountWarning: true,
    });
    this.client.on('ready', () => {
      if (this.status.state === 'none') this.status = { ...this.status, state: 'stale' };
      this.rebuild();
    });
    this.client.on('synchronized', () => {
      this.status = { state: 'synchronized', lastSyncAt: new Date().toISOString() };
      this.rebuild();
    });
    this.client.on('changed', () => this.rebuild());
    this.client.on('unchanged', () => {
      this.status = { state: 'synchronized', lastSyncAt: new Date().toISOString() };
    });
    this.client.on('error', (err: Error) => {
      const known = this.status.state !== 'none';
      this.status = { ...this.status, state: known ? 'stale' : 'none', lastError: err.message };
      options.logger.warn({ err: err.message }, known ? 'unleash unreachable; keeping the last known flags' : 'unleash unreachable and no flags known; routing everything to the monolith');
    });
    this.client.on('warn', (msg: unknown) => options.logger.debug({ msg }, 'unleash warning'));
    // With a backup the client reads it at once; without one, an unreachable Unleash means there is nothing to wait for.
    this.loaded = new Promise((resolve) => {
      this.client.once('ready', () => resolve());
      if (backedUp === 0) this.client.once('error', () => resolve());
    });
  }

  /**
   * A facade must not take requests before it knows the flags it last had: a restart while Unleash is down would
   * otherwise route every canary user to the monolith until the backup is read.
   */
  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loaded, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private rebuild(): void {
    for (const ctx of this.contexts) {
      const names = flagNames(ctx);
      const flags: ContextFlags = {
        route: flagState(this.client.getFeatureToggleDefinition(names.route) as Definition | undefined),
        shadow: flagState(this.client.getFeatureToggleDefinition(names.shadow) as Definition | undefined),
        retired: flagState(this.client.getFeatureToggleDefinition(names.retired) as Definition | undefined),
      };
      this.states.set(ctx, { ...deriveStage(flags), flags });
    }
    this.emit('changed');
  }

  state(context: string): ContextState {
    return this.states.get(context) ?? MONOLITH;
  }

  routeToService(context: string, userId: string | undefined): boolean {
    const s = this.state(context);
    if (s.stage === 'retired' || s.percent >= 100) return true;
    if (s.percent <= 0) return false;
    const ctx: Context = userId === undefined ? {} : { userId };
    return this.client.isEnabled(flagNames(context).route, ctx);
  }

  sampleShadow(context: string, userId: string | undefined): boolean {
    const rate = this.state(context).sampleRate;
    if (rate >= 100) return true;
    if (rate <= 0) return false;
    const ctx: Context = userId === undefined ? {} : { userId };
    return this.client.isEnabled(flagNames(context).shadow, ctx);
  }

  health() {
    return this.status;
  }

  async close(): Promise<void> {
    this.client.destroy();
    // destroy() strips the repository's listeners while a poll may still be in flight; its late error event would
    // then be an unhandled 'error' and crash the process on shutdown.
    (this.client as unknown as { repository?: EventEmitter }).repository?.on('error', () => undefined);
  }
}

/** No Unleash configured: every context stays on the monolith, and health says so. */
export class NoFlags extends EventEmitter implements Flags {
  state(): ContextState {
    return MONOLITH;
  }
  routeToService(): boolean {
    return false;
  }
  sampleShadow(): boolean {
    return false;
  }
  health() {
    return { state: 'none' as const, lastError: 'UNLEASH_URL is not set' };
  }
  async ready(): Promise<void> {}
  async close(): Promise<void> {}
}
