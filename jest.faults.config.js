// `npm run test:faults`: the fault suite (test/faults) with the same real Postgres and Kafka as `npm test`. Its files
// kill processes and stop servers, so they are kept out of the default run and get minutes, not seconds.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.fault.ts'],
  testTimeout: 240_000,
};
