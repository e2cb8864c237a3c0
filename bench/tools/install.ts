import { execFileSync, spawnSync } from 'node:child_process';
import { autocannonGenerator } from './autocannon';
import type { LoadGenerator } from './load';
import { wrkGenerator } from './wrk';

function which(binary: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  return r.status === 0 && found ? found : undefined;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Installs a Debian package when apt is there and we may use it. Another process may hold dpkg's lock (helpers
 * install things in parallel), so wait for it; `update` only when the package is unknown to the current lists.
 */
function aptInstall(pkg: string, log: (line: string) => void): boolean {
  if (!isRoot() || !which('apt-get')) return false;
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=300', pkg], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    });
  log(`installing ${pkg} with apt-get…`);
  let r = install();
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq', '-o', 'DPkg::Lock::Timeout=300'], { encoding: 'utf8', timeout: 600_000 });
    r = install();
  }
  if (r.status !== 0) log(`apt-get install ${pkg} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return r.status === 0;
}

function firstLine(cmd: string, args: string[]): string {
  try {
    // nginx and wrk print their version on stderr, with a non-zero exit for wrk's -v.
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '';
  } catch {
    return '';
  }
}

/** wrk (installed from Debian when missing), else an already-installed autocannon; otherwise the bench cannot run. */
export function loadGenerator(users: number, log: (line: string) => void): LoadGenerator {
  let wrk = which('wrk');
  if (!wrk && aptInstall('wrk', log)) wrk = which('wrk');
  if (wrk) return wrkGenerator(wrk, /wrk\s+(?:debian\/)?(\S+)/.exec(firstLine(wrk, ['-v']))?.[1] ?? 'unknown', users);
  try {
    const version = execFileSync('npx', ['--no-install', 'autocannon', '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 }).trim();
    log('wrk is not available: falling back to the installed autocannon');
    return autocannonGenerator(version.split('\n')[0] ?? 'unknown');
  } catch {
    throw new Error('no load generator: install wrk (apt-get install wrk) or autocannon');
  }
}

/** Debian's nginx, installed when missing and possible; undefined means the nginx row is skipped. */
export function nginxBinary(log: (line: string) => void): { path: string; version: string } | undefined {
  let nginx = which('nginx') ?? ['/usr/sbin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0);
  if (!nginx && aptInstall('nginx', log)) nginx = which('nginx') ?? '/usr/sbin/nginx';
  if (!nginx) return undefined;
  return { path: nginx, version: firstLine(nginx, ['-v']).replace(/^nginx version:\s*/, '') };
}
