// Jest runs the tests as CommonJS in its own module system, which cannot load an ESM-only package (Node itself
// can: the compiled facade `require`s them natively). The few ESM-only packages the facade imports at run time
// (http-proxy-middleware 4, httpxy, is-plain-obj) are transpiled to CommonJS for Jest only.
const crypto = require('node:crypto');
const ts = require('typescript');

const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, allowJs: true, esModuleInterop: true };

module.exports = {
  process(source, filename) {
    // A `.mjs` name would make TypeScript keep ES module syntax whatever `module` says.
    const fileName = filename.replace(/\.mjs$/, '.js');
    return { code: ts.transpileModule(source, { fileName, compilerOptions }).outputText };
  },
  getCacheKey(source, filename) {
    return crypto.createHash('sha256').update(ts.version).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
};
