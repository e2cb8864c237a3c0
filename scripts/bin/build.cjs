// Compiles the TypeScript into dist/ when a source is newer than the last build, so `npm start`, `npx strangler` and
// the tests never run yesterday's JavaScript after an edit (the workshop fixes a service, then restarts the stack).
// Checking is a walk over file times, milliseconds; compiling is `npm run build`'s tsc, seconds. Run directly, it
// builds when stale.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const CONFIG = path.join(ROOT, 'tsconfig.build.json');
const BUILD_INFO = path.join(ROOT, 'dist', '.tsbuildinfo');

function newestChange(file) {
  const stat = fs.statSync(file);
  if (!stat.isDirectory()) return file.endsWith('.ts') ? stat.mtimeMs : 0;
  return Math.max(0, ...fs.readdirSync(file).map((name) => newestChange(path.join(file, name))));
}

function isStale() {
  if (!fs.existsSync(BUILD_INFO)) return true;
  const { include } = JSON.parse(fs.readFileSync(CONFIG, 'utf8').replace(/^\s*\/\/.*$/gm, ''));
  const sources = include.map((folder) => path.join(ROOT, folder));
  const newest = Math.max(...[CONFIG, path.join(ROOT, 'tsconfig.json')].map((f) => fs.statSync(f).mtimeMs), ...sources.map(newestChange));
  return newest > fs.statSync(BUILD_INFO).mtimeMs;
}

/** Builds when stale; `say` hears one line first. Returns whether it built. */
function buildIfStale(say) {
  if (!isStale()) return false;
  say('sources changed since the last build: compiling dist/ (npm run build)\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '-p', CONFIG, '--noCheck'], { cwd: ROOT, stdio: 'inherit' });
  // tsc leaves its build info alone when no output changed (a comment edit): stamp it, or every run would rebuild.
  const now = new Date();
  fs.utimesSync(BUILD_INFO, now, now);
  return true;
}

module.exports = { buildIfStale };

if (require.main === module) buildIfStale((line) => process.stderr.write(line));
