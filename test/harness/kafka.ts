/** The run's Kafka broker list ("host:port[,…]"), set by global setup (or `KAFKA_BROKERS`), or null without one. */
export function configuredKafkaBrokers(): string | null {
  return process.env.STRANGLER_TEST_KAFKA_BROKERS || null;
}

export function testKafkaBrokers(): string {
  const brokers = configuredKafkaBrokers();
  if (!brokers) {
    throw new Error(
      'STRANGLER_TEST_KAFKA_BROKERS is not set: run the tests through jest (global setup starts Kafka, which needs java and mvn), or set KAFKA_BROKERS',
    );
  }
  return brokers;
}

/**
 * `describe` for tests that need the run's Kafka broker. Locally, without Java/Maven (so no broker), the block is
 * skipped with a note instead of failing; in CI it always runs, so a missing broker fails loudly.
 */
export function describeWithKafka(name: string, fn: () => void): void {
  if (!configuredKafkaBrokers() && !process.env.CI) {
    // Straight to stderr: Jest's default reporter drops console output of suites whose tests were all skipped.
    process.stderr.write(`skipping "${name}": no Kafka broker (install java and mvn, or set KAFKA_BROKERS)\n`);
    describe.skip(name, fn);
    return;
  }
  describe(name, fn);
}
