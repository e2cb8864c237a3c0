// Validates Kubernetes manifests against the API's OpenAPI schema as the `kubernetes-models` package ships it (an
// ESM-only package, hence a script of its own that the Jest test runs). Usage: node validate.mjs FILE.yaml…
// Prints one JSON line: [{file, index, kind, name, ok, error?}] for every document.
import fs from 'node:fs';
import YAML from 'yaml';

const models = {
  'apps/v1': await import('kubernetes-models/apps/v1'),
  'policy/v1': await import('kubernetes-models/policy/v1'),
  v1: await import('kubernetes-models/v1'),
  'networking.k8s.io/v1': await import('kubernetes-models/networking.k8s.io/v1'),
  'autoscaling/v2': await import('kubernetes-models/autoscaling/v2'),
};

const results = [];
for (const file of process.argv.slice(2)) {
  YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).forEach((doc, index) => {
    const data = doc.toJS();
    if (!data) return;
    const where = { file, index, kind: data.kind, name: data.metadata?.name };
    const Model = models[data.apiVersion]?.[data.kind];
    if (!Model) {
      results.push({ ...where, ok: false, error: `no schema for ${data.apiVersion} ${data.kind}` });
      return;
    }
    try {
      new Model(data).validate();
      results.push({ ...where, ok: true });
    } catch (err) {
      results.push({ ...where, ok: false, error: err.message });
    }
  });
}
process.stdout.write(`${JSON.stringify(results)}\n`);
