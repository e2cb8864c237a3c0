import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

/**
 * deploy/k8s/ cannot be applied here (no cluster), so it is checked twice: every document against the Kubernetes
 * API's OpenAPI schema (the `kubernetes-models` package: field types, required fields, enums), and against the code
 * by what a schema cannot know — probes on the ports the containers listen on, resources, a PodDisruptionBudget and
 * a Service selecting each Deployment's pods, and every variable each component's config reads set from somewhere.
 * Not checked: unknown fields (the package's schemas allow them; `kubectl apply --validate=strict` refuses them),
 * admission policies and quotas of a real cluster, and that the image exists in a registry.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'deploy', 'k8s');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.yaml')).map((f) => path.join(DIR, f));

interface Result {
  file: string;
  index: number;
  kind: string;
  name: string;
  ok: boolean;
  error?: string;
}

function validate(paths: string[]): Result[] {
  const run = spawnSync(process.execPath, [path.join(__dirname, 'k8s', 'validate.mjs'), ...paths], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`validate.mjs failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Result[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
const docs: Doc[] = files.flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(f, 'utf8')).map((d) => d.toJS()).filter(Boolean));
const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Top-level keys of the `z.object({...})` schemas in a config file: the variables the component reads. */
function configKeys(rel: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, rel), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const body = text.slice(text.indexOf('z.object({'));
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*)\s*:/gm)].map((m) => m[1]);
}

const COMPONENTS: Record<string, { entry: string; config: string }> = {
  facade: { entry: 'dist/facade/src/main.js', config: 'facade/src/config.ts' },
  cdc: { entry: 'dist/migrations/cdc/worker/main.js', config: 'migrations/cdc/worker/config.ts' },
};

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('are valid against the Kubernetes OpenAPI schema, every document', () => {
    const results = validate(files);
    expect(results.length).toBe(docs.length);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.kind).sort()).toEqual(expect.arrayContaining(['ConfigMap', 'Deployment', 'Deployment', 'PodDisruptionBudget', 'PodDisruptionBudget', 'Service', 'Service']));
  });

  it('the schema check refuses a broken manifest (a wrong type, a missing required field)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-'));
    const broken = path.join(dir, 'broken.yaml');
    const deployment = ofKind('Deployment')[0];
    const bad = [
      { ...deployment, spec: { ...deployment.spec, replicas: 'two' } },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'x' }, spec: { minAvailable: 1, selector: { matchLabels: 'app' } } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ name: 'http' }] } },
    ];
    fs.writeFileSync(broken, bad.map((d) => YAML.stringify(d)).join('---\n'));
    try {
      expect(validate([broken]).map((r) => [r.kind, r.ok, r.error])).toEqual([
        ['Deployment', false, expect.stringMatching(/replicas must be integer/)],
        ['PodDisruptionBudget', false, expect.stringMatching(/matchLabels must be object/)],
        ['Service', false, expect.stringMatching(/ports\/0 must have required property '?port'?/)],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [name, component] of Object.entries(COMPONENTS)) {
    describe(name, () => {
      const deployment = ofKind('Deployment').find((d) => d.metadata.name === name);
      const pod = deployment?.spec.template;
      const container = pod?.spec.containers[0];

      it('runs at least two replicas of the component\'s compiled entry, never all down in a rollout', () => {
        expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
        expect(container.command).toEqual(['node', component.entry]);
        expect(fs.existsSync(path.join(ROOT, component.entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
        expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
        expect(matches(deployment.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
      });

      it('probes readiness over HTTP and liveness on the port it listens on, and states its resources', () => {
        const ports = new Map<string, number>(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
        const env = Object.fromEntries(container.env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));
        expect([...ports.values()]).toContain(Number(env.PORT));
        expect(container.readinessProbe.httpGet.path).toMatch(/health$/);
        for (const probe of [container.readinessProbe.httpGet, container.livenessProbe.tcpSocket ?? container.livenessProbe.httpGet]) {
          expect(ports.get(probe.port) ?? probe.port).toBe(Number(env.PORT));
        }
        for (const kind of ['requests', 'limits']) expect(Object.keys(container.resources[kind]).sort()).toEqual(['cpu', 'memory']);
      });

      it('has a PodDisruptionBudget and a Service that select its pods, the Service on its port', () => {
        const pdb = ofKind('PodDisruptionBudget').filter((p) => matches(p.spec.selector.matchLabels, pod.metadata.labels));
        expect(pdb).toHaveLength(1);
        expect(pdb[0].spec.minAvailable).toBeGreaterThanOrEqual(1);
        expect(pdb[0].spec.minAvailable).toBeLessThan(deployment.spec.replicas);
        const services = ofKind('Service').filter((s) => matches(s.spec.selector, pod.metadata.labels));
        expect(services.map((s) => s.metadata.name)).toEqual([name]);
        const names = container.ports.map((p: { name: string }) => p.name);
        for (const p of services[0].spec.ports) expect(names).toContain(p.targetPort);
      });

      it('sets every variable its config reads, from its env, the shared ConfigMap or the Secret', () => {
        const set = new Set<string>(container.env.map((e: { name: string }) => e.name));
        for (const from of container.envFrom ?? []) {
          const map = ofKind('ConfigMap').find((c) => c.metadata.name === from.configMapRef?.name);
          expect(map).toBeDefined();
          for (const k of Object.keys(map.data)) set.add(k);
        }
        const keys = configKeys(component.config);
        expect(keys).toContain('PORT');
        expect({ name, missing: keys.filter((k) => !set.has(k)) }).toEqual({ name, missing: [] });
        // Tokens and database URLs only from the Secret, never written in a manifest.
        for (const e of container.env) if (/TOKEN|SECRET|DATABASE_URL/.test(e.name)) expect({ name: e.name, fromSecret: Boolean(e.valueFrom?.secretKeyRef) }).toEqual({ name: e.name, fromSecret: true });
      });
    });
  }

  it('gives each worker its own id and the facades the worker Service as their CDC URL', () => {
    const cdc = ofKind('Deployment').find((d) => d.metadata.name === 'cdc').spec.template.spec.containers[0];
    expect(cdc.env.find((e: { name: string }) => e.name === 'CDC_WORKER_ID')).toEqual({ name: 'CDC_WORKER_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    const facade = ofKind('Deployment').find((d) => d.metadata.name === 'facade').spec.template.spec.containers[0];
    const url = new URL(facade.env.find((e: { name: string }) => e.name === 'STRANGLER_CDC_URL').value);
    const service = ofKind('Service').find((s) => s.metadata.name === url.hostname);
    expect(service.spec.ports.map((p: { port: number }) => p.port)).toContain(Number(url.port));
    expect(cdc.env.find((e: { name: string }) => e.name === 'CDC_ALLOWED_HOSTS').value.split(',')).toContain(url.hostname);
  });
});
