// Puts `strangler` in node_modules/.bin (npm's `prepare` step runs this after the build).
//
// package.json has no `bin` on purpose: when the project's own package.json names the command, npx (npm 10 and 11)
// "installs" the project into its cache and reads the whole dependency tree on every call, seconds before the CLI
// even starts. A command already in node_modules/.bin is run straight away.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const binDir = path.join(root, 'node_modules', '.bin');
const link = path.join(binDir, 'strangler');
fs.mkdirSync(binDir, { recursive: true });
fs.rmSync(link, { force: true });
fs.symlinkSync(path.relative(binDir, path.join(__dirname, 'strangler.cjs')), link);
