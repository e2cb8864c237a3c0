import { ensureBuilt } from '../harness/build';

/** The docs test starts its own stack (`strangler up`), so it needs only a current dist/, not the suite's Postgres and Kafka. */
export default function globalSetup(): void {
  ensureBuilt();
}
