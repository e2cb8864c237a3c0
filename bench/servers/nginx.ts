import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startProcess, whenListening, type BenchProcess } from '../tools/processes';

/**
 * nginx as a reverse proxy with upstream keep-alive: one worker, like the single Node process it is compared with
 * (or one per core, against the facade with one process per core), no access log (no Node row logs per request
 * either). Runs in the foreground from its own prefix folder.
 */
export function nginxConfig(dir: string, port: number, upstream: URL, workers = 1): string {
  return `worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  upstream tiny {
    server ${upstream.hostname}:${upstream.port};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://tiny;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`;
}

export async function startNginx(binary: string, port: number, upstream: URL, workers = 1): Promise<BenchProcess & { dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-bench-nginx-'));
  // As root the worker runs as nobody; it only needs to traverse the folder.
  fs.chmodSync(dir, 0o755);
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig(dir, port, upstream, workers));
  const proc = startProcess('nginx', binary, ['-e', 'stderr', '-p', dir, '-c', conf]);
  await whenListening(proc, port);
  const stop = proc.stop;
  return {
    ...proc,
    dir,
    stop: async () => {
      // SIGQUIT is nginx's graceful shutdown; the master takes its worker with it.
      await stop('SIGQUIT');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
