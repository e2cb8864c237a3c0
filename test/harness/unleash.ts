import { freePort } from '../../lib/net/ports';
import { defaultUnleashTokens, startUnleash, type UnleashProcess } from '../../scripts/stack/unleash';
import { createTestDatabase, type TestDatabase } from './database';

export interface TestUnleash extends UnleashProcess {
  database: TestDatabase;
  /** Stops the server, then drops its database. */
  stop(): Promise<void>;
}

/**
 * A real Unleash on a free port with its own fresh database on the run's Postgres. Start it in beforeAll with a
 * generous timeout (migrations run on every fresh database) and stop it in afterAll.
 */
export async function startTestUnleash(options: { onLog?: (line: string) => void } = {}): Promise<TestUnleash> {
  const database = await createTestDatabase('unleash');
  let server: UnleashProcess;
  try {
    server = await startUnleash({
      databaseUrl: database.url,
      port: await freePort(),
      ...defaultUnleashTokens(),
      onLog: options.onLog ?? (process.env.UNLEASH_TEST_LOGS ? (line) => console.log(`[unleash] ${line}`) : undefined),
    });
  } catch (err) {
    await database.drop();
    throw err;
  }
  return {
    ...server,
    database,
    stop: async () => {
      try {
        await server.stop();
      } finally {
        await database.drop();
      }
    },
  };
}
