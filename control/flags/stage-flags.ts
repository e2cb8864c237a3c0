import { deriveStage, flagNames, type ContextFlags, type Stage } from '../plan';
import { FlagNotFoundError, type UnleashAdminClient } from './admin-client';

/** Shadow sampling is per request, not per user: a sample should see every kind of user. */
export const SHADOW_STICKINESS = 'random';

async function setFlag(client: UnleashAdminClient, name: string, on: boolean, percent: number, stickiness?: string): Promise<void> {
  await client.ensureFlag(name);
  if (on) {
    // The strategy first: enabling a flag without one would briefly send everyone (Unleash adds a 100 % default).
    await client.setRollout(name, percent, stickiness);
    await client.enable(name);
  } else {
    await client.disable(name);
  }
}

/**
 * Writes a context's stage as its three Unleash flags (the contract the facade reads and people see in Unleash's
 * UI). The order keeps every intermediate state safe: flags that move traffic back towards the monolith change
 * first, and flags that move it towards the service change last.
 */
export async function applyStage(client: UnleashAdminClient, context: string, stage: Stage, percent = 100): Promise<void> {
  const names = flagNames(context);
  switch (stage) {
    case 'monolith':
      await setFlag(client, names.retired, false, 0);
      await setFlag(client, names.route, false, 0);
      await setFlag(client, names.shadow, false, 0);
      return;
    case 'shadow':
      await setFlag(client, names.retired, false, 0);
      await setFlag(client, names.route, false, 0);
      await setFlag(client, names.shadow, true, 100, SHADOW_STICKINESS);
      return;
    case 'canary':
      if (!(percent >= 1 && percent <= 99)) throw new RangeError(`canary percent must be 1–99, got ${percent}`);
      await setFlag(client, names.retired, false, 0);
      // Requests that stay on the monolith keep being compared while the canary runs.
      await setFlag(client, names.shadow, true, 100, SHADOW_STICKINESS);
      await setFlag(client, names.route, true, percent);
      return;
    case 'cutover':
      await setFlag(client, names.retired, false, 0);
      await setFlag(client, names.route, true, 100);
      await setFlag(client, names.shadow, false, 0);
      return;
    case 'retired':
      await setFlag(client, names.route, true, 100);
      await setFlag(client, names.shadow, false, 0);
      await setFlag(client, names.retired, true, 100);
      return;
  }
}

/** Reads a context's stage back from Unleash (what the facade will derive once it refreshes). */
export async function readStage(client: UnleashAdminClient, context: string): Promise<{ stage: Stage; percent: number; flags: ContextFlags }> {
  const names = flagNames(context);
  const read = async (name: string) => {
    try {
      const f = await client.getFlag(name);
      const rollouts = f.strategies.map((s) => Number(s.parameters?.rollout ?? 100));
      return { enabled: f.enabled, rollout: rollouts.length ? Math.max(...rollouts) : 100 };
    } catch (err) {
      if (err instanceof FlagNotFoundError) return undefined;
      throw err;
    }
  };
  const flags: ContextFlags = { route: await read(names.route), shadow: await read(names.shadow), retired: await read(names.retired) };
  const { stage, percent } = deriveStage(flags);
  return { stage, percent, flags };
}
