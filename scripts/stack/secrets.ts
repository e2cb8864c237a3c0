import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { stackPaths, writePrivateFile } from './home';

export interface StackSecrets {
  /** Seeds Unleash's initial tokens; Unleash inserts them only into an empty token table, so they must not change. */
  unleashSecret: string;
  adminToken: string;
  /** STRANGLER_INTERNAL_SECRET of the facade and the services (lib/http/internal-auth). */
  internalSecret: string;
}

/**
 * Made once per `.strangler/` and kept (mode 0600 in `private/`), so a restarted stack has the same tokens (and
 * Unleash accepts them). A file from before a secret existed gets it added.
 */
export function loadOrCreateSecrets(home: string): StackSecrets {
  const file = stackPaths(home).secretsFile;
  let stored: Partial<StackSecrets> = {};
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<StackSecrets>;
  } catch {
    // first start
  }
  const secrets: StackSecrets = {
    unleashSecret: stored.unleashSecret ?? randomBytes(16).toString('hex'),
    adminToken: stored.adminToken ?? (process.env.STRANGLER_ADMIN_TOKEN || `strangler-${randomBytes(16).toString('hex')}`),
    internalSecret: stored.internalSecret ?? randomBytes(32).toString('base64url'),
  };
  if (JSON.stringify(secrets) !== JSON.stringify(stored)) writePrivateFile(file, JSON.stringify(secrets, null, 2));
  return secrets;
}
