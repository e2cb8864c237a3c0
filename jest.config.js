// Type checking is `npm run typecheck`'s job; ts-jest only transpiles here so the suite stays fast.
/** Packages the facade loads that ship ES modules only (see test/harness/esm-transform.cjs). */
const ESM_ONLY = '(?:http-proxy-middleware|httpxy|is-plain-obj)';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.strangler/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.strangler/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    [`/node_modules/${ESM_ONLY}/.+\\.m?js$`]: '<rootDir>/test/harness/esm-transform.cjs',
  },
  transformIgnorePatterns: [`/node_modules/(?!${ESM_ONLY}/)`],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 60_000,
};
