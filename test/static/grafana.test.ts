import fs from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import YAML from 'yaml';
import { registry as processRegistry } from '../../lib/http/metrics';
// Registers the facade's metrics on the process registry.
import '../../facade/src/metrics/metrics';
import { registerPipelineMetrics } from '../../migrations/cdc/worker/metrics';

/**
 * Docker cannot run here, so the Prometheus + Grafana wiring is checked statically: every file parses, the
 * provisioning points where compose mounts the files, and every metric a panel queries is one the facade or the CDC
 * worker exports — a renamed metric fails here instead of as an empty panel on someone's screen.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

interface Target {
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: Target[];
  panels?: Panel[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const dashboard = JSON.parse(read('docker/grafana/dashboards/strangler.json')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { query: { query: string } }[] };
  annotations: { list: { expr: string }[] };
};
const datasources = YAML.parse(read('docker/grafana/provisioning/datasources/prometheus.yaml')) as { datasources: { uid: string; type: string; url: string }[] };
const providers = YAML.parse(read('docker/grafana/provisioning/dashboards/strangler.yaml')) as { providers: { options: { path: string } }[] };
const prometheus = YAML.parse(read('docker/prometheus/prometheus.yml')) as {
  scrape_configs: { job_name: string; metrics_path: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; type: string; port: number }[] }[];
};
const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, { volumes?: string[]; ports?: string[]; depends_on?: Record<string, unknown> }>;
};

const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const exprs = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr ?? '' }))),
  // `label_values(<series>, <label>)` is Grafana's, not PromQL: its first argument is the query.
  ...dashboard.templating.list.map((v) => ({ where: 'variable', expr: v.query.query.replace(/^label_values\((.*),\s*\w+\)$/, '$1') })),
  ...dashboard.annotations.list.map((a) => ({ where: 'annotation', expr: a.expr })),
];

/** Metric names in a PromQL expression: identifiers outside label matchers and strings, not followed by `(`. */
function metricsIn(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '');
  const names = [...bare.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()/g)].map((m) => m[0]);
  // Grouping labels (`by (context, le)`) and keywords are not metrics.
  const grouping = new Set([...bare.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((s) => s.trim())));
  const keywords = new Set(['sum', 'min', 'max', 'avg', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);
  return names.filter((n) => !grouping.has(n) && !keywords.has(n) && !/^\d/.test(n));
}

async function exportedNames(): Promise<Set<string>> {
  const worker = new Registry();
  registerPipelineMetrics(worker, async () => []);
  const names = new Set<string>();
  for (const reg of [processRegistry, worker]) {
    for (const m of await reg.getMetricsAsJSON()) {
      names.add(m.name);
      if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m.name}${suffix}`);
    }
  }
  return names;
}

describe('Grafana dashboard and Prometheus wiring', () => {
  it('queries only metrics the facade or the CDC worker exports', async () => {
    const exported = await exportedNames();
    const queried = exprs.flatMap(({ where, expr }) => metricsIn(expr).map((metric) => ({ where, metric })));
    expect(queried.length).toBeGreaterThan(20);
    for (const q of queried) expect({ ...q, exported: exported.has(q.metric) }).toEqual({ ...q, exported: true });
    // The test's own parser finds what it should.
    expect(metricsIn('histogram_quantile(0.99, sum by (context, le) (rate(x_bucket{a="b{c}"}[1m]))) / y')).toEqual(['x_bucket', 'y']);
  });

  it('shows what the built-in dashboard shows: stage, split, diff rate, error rate, latency, CDC lag', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    for (const metric of [
      'strangler_context_stage',
      'strangler_facade_requests_total',
      'strangler_shadow_comparisons_total',
      'strangler_facade_request_duration_seconds_bucket',
      'strangler_facade_fallbacks_total',
      'strangler_cdc_lag_milliseconds',
      'strangler_cdc_pipeline_state',
      'strangler_cdc_dead_letters_total',
    ]) {
      expect({ metric, queried: all.includes(metric) }).toEqual({ metric, queried: true });
    }
  });

  it('lays panels out on the 24-column grid without overlaps, each on the provisioned data source', () => {
    const uid = datasources.datasources[0].uid;
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect({ panel: p.title, fits: p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24 }).toEqual({ panel: p.title, fits: true });
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect({ panel: p.title, cell: `${x},${y}`, free: !cells.has(`${x},${y}`) }).toEqual({ panel: p.title, cell: `${x},${y}`, free: true });
          cells.add(`${x},${y}`);
        }
    }
    for (const p of panels) {
      expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid });
      for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe(uid);
    }
  });

  it('is mounted where the provisioning looks, and Prometheus scrapes the facade and the worker where they listen', () => {
    const grafana = compose.services.grafana;
    expect(grafana.volumes).toContain('./docker/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(grafana.volumes).toContain(`./docker/grafana/dashboards:${providers.providers[0].options.path}:ro`);
    expect(grafana.depends_on).toHaveProperty('prometheus');
    expect(compose.services.prometheus.volumes).toContain('./docker/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((j) => [j.job_name, j]));
    // The replicated ones by DNS, every replica a target: through the balancer each scrape would reach one at random.
    expect(jobs.facade).toMatchObject({ metrics_path: '/_strangler/metrics', dns_sd_configs: [{ names: ['facade'], type: 'A', port: 8080 }] });
    expect(jobs.cdc).toMatchObject({ metrics_path: '/metrics', dns_sd_configs: [{ names: ['cdc'], type: 'A', port: 8083 }] });
    const targets = prometheus.scrape_configs.flatMap((j) => [
      ...(j.static_configs ?? []).flatMap((c) => c.targets),
      ...(j.dns_sd_configs ?? []).flatMap((c) => c.names.map((n) => `${n}:${c.port}`)),
    ]);
    for (const target of targets) {
      const [host, port] = target.split(':');
      expect({ target, service: host in compose.services }).toEqual({ target, service: true });
      const s = compose.services[host] as { ports?: unknown[]; expose?: unknown[] };
      const listens = (s.ports ?? []).some((p) => String(p).endsWith(`:${port}`)) || (s.expose ?? []).some((p) => String(p) === port);
      expect({ target, listens }).toEqual({ target, listens: true });
    }
  });
});
