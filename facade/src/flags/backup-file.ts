import fs from 'node:fs';
import path from 'node:path';

/**
 * unleash-client's storage of the last flags it fetched, replaced because its own file store writes in place with an
 * asynchronous `writeFile`: a facade killed or restarted mid-write left a truncated file, and a restart while Unleash
 * was down then came up with no flags — every canary user moved to the monolith.
 *
 * Here a write goes to a temporary file that is flushed and renamed over the backup, synchronously: the rename is
 * atomic, so a reader sees the old flags or the new ones, never half of either. unleash-client calls `set` in the
 * same tick in which it emits `changed`, so no request is routed on new flags before they are on disk.
 *
 * The file name is unleash-client's own (`unleash-backup-<appName>.json`), so a backup written before this change is
 * still read.
 */
export class BackupFile<T = unknown> {
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  pathFor(key: string): string {
    return path.join(this.dir, `unleash-backup-${key.replace(/\//g, '_')}.json`);
  }

  async set(key: string, data: T): Promise<void> {
    this.write(key, data);
  }

  async get(key: string): Promise<T | undefined> {
    return this.read(key);
  }

  write(key: string, data: T): void {
    const target = this.pathFor(key);
    const tmp = `${target}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(data));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  }

  /** The last flags written, or undefined when there is no usable file (absent, empty or not JSON). */
  read(key: string): T | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.pathFor(key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }
}
