// `npm run test:docs`: the runnable blocks of README.md and MIGRATION.md (the workshop's exercises included), in
// order, against one real stack (test/docs). Minutes, not seconds, so it is a step of its own in CI.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/docs/**/*.docs.ts'],
  testTimeout: 1_800_000,
  // The stack the test starts is all it needs: no shared Postgres and Kafka of the suite.
  globalSetup: '<rootDir>/test/docs/global-setup.ts',
  globalTeardown: undefined,
};
