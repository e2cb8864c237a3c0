#!/usr/bin/env node
// `npx strangler …` runs the TypeScript CLI through tsx, so no build step is needed on a fresh checkout.
const { spawn } = require('node:child_process');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'strangler.ts');
const child = spawn(process.execPath, ['--import', 'tsx', entry, ...process.argv.slice(2)], { stdio: 'inherit' });
// Ctrl-C reaches the CLI directly (same process group); this wrapper only waits for it to finish stopping.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
