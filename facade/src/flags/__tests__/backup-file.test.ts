import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BackupFile } from '../backup-file';

describe('the flags backup file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-backup-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is written whole by a rename, readable at once, owner-only, and leaves no temporary file', async () => {
    const file = new BackupFile<{ features: { name: string }[] }>(dir);
    await file.set('strangler-facade', { features: [{ name: 'strangler.users.route' }] });
    expect(file.read('strangler-facade')).toEqual({ features: [{ name: 'strangler.users.route' }] });
    expect(fs.readdirSync(dir)).toEqual(['unleash-backup-strangler-facade.json']);
    expect(fs.statSync(file.pathFor('strangler-facade')).mode & 0o777).toBe(0o600);
  });

  it('keeps the previous flags readable while a write is under way', () => {
    const file = new BackupFile<{ features: string[] }>(dir);
    file.write('app', { features: ['old'] });
    // A write interrupted before its rename (a killed process) leaves only a temporary file behind.
    fs.writeFileSync(`${file.pathFor('app')}.999.tmp`, '{"features":["ne');
    expect(file.read('app')).toEqual({ features: ['old'] });
  });

  it('reads an absent, empty or truncated file as no flags rather than failing', () => {
    const file = new BackupFile(dir);
    expect(file.read('none')).toBeUndefined();
    fs.writeFileSync(file.pathFor('empty'), '  ');
    expect(file.read('empty')).toBeUndefined();
    fs.writeFileSync(file.pathFor('cut'), '{"features":[{"na');
    expect(file.read('cut')).toBeUndefined();
  });

  it('uses unleash-client\'s file name, so a backup written by its own file store is still read', () => {
    const file = new BackupFile(dir);
    fs.writeFileSync(path.join(dir, 'unleash-backup-a_b.json'), '{"features":[]}');
    expect(file.read('a/b')).toEqual({ features: [] });
  });
});
