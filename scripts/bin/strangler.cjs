#!/usr/bin/env node
// `npx strangler …`: the CLI as `npm run build` compiled it to dist/ (npm install and npm ci build it, in `prepare`),
// run in this process. Nothing is compiled at start-up unless a source changed since the last build (build.cjs).
const fs = require('node:fs');
const path = require('node:path');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `strangler: needs Node.js 22.15 or newer, this is ${process.version}. Run it through npm (\`npx strangler\`, ` +
      '`npm start`), which puts the Node 24 that `npm install` fetched (node_modules/.bin/node) first on PATH.\n',
  );
  process.exit(1);
}

try {
  require('./build.cjs').buildIfStale((line) => process.stderr.write(`strangler: ${line}`));
} catch (err) {
  // Without the compiler (an install without devDependencies) the existing build is all there is.
  process.stderr.write(`strangler: could not rebuild dist/ (${err.message.split('\n')[0]}); running the last build\n`);
}
const entry = path.join(__dirname, '..', '..', 'dist', 'scripts', 'strangler.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('strangler: dist/ is missing: run `npm install` (or `npm run build`) first\n');
  process.exit(1);
}
require(entry).main(process.argv);
