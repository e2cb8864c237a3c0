/**
 * Loads an ESM-only package from our CommonJS build.
 *
 * TypeScript compiles `import()` to `require()` under `module: commonjs`, which cannot load ESM. Hiding the call
 * in a Function keeps it a real dynamic import (Node runs it natively outside Jest's VM).
 */
const dynamicImport = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

export function importEsm<T>(specifier: string): Promise<T> {
  return dynamicImport<T>(specifier);
}
