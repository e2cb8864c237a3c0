import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface StackSecrets {
  /** Seeds Unleash's initial tokens; Unleash inserts them only into an empty token table, so they must not change. */
  unleashSecret: string;
  adminToken: string;
}

/** Made once per `.strangler/` and kept, so a restarted stack has the same tokens (and Unleash accepts them). */
export function loadOrCreateSecrets(home: string): StackSecrets {
  const file = path.join(home, 'secrets.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StackSecrets;
  } catch {
    const secrets: StackSecrets = {
      unleashSecret: randomBytes(16).toString('hex'),
      adminToken: process.env.STRANGLER_ADMIN_TOKEN || `strangler-${randomBytes(16).toString('hex')}`,
    };
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    return secrets;
  }
}
