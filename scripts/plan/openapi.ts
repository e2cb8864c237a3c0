import fs from 'node:fs';
import YAML from 'yaml';
import type { OpenApiRoute } from './propose';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** An OpenAPI 3 (or Swagger 2) document from a file or a URL, JSON or YAML. */
export async function readOpenApi(source: string): Promise<unknown> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
      throw new Error(`cannot fetch the OpenAPI document ${source}: ${(err.cause as Error)?.message ?? err.message}`);
    });
    if (!res.ok) throw new Error(`cannot fetch the OpenAPI document ${source}: HTTP ${res.status}`);
    text = await res.text();
  } else {
    try {
      text = fs.readFileSync(source, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the OpenAPI document ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  try {
    return YAML.parse(text);
  } catch (err) {
    throw new Error(`the OpenAPI document ${source} is not JSON or YAML: ${(err as Error).message}`);
  }
}

type Schema = { $ref?: string; type?: string; format?: string; example?: unknown; default?: unknown; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema };

function resolve(doc: Record<string, unknown>, s: Schema | undefined, depth = 0): Schema | undefined {
  if (!s?.$ref || depth > 10) return s;
  const target = s.$ref.replace(/^#\//, '').split('/').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
  return resolve(doc, target as Schema, depth + 1);
}

/**
 * A body `strangler load` can send, from the schema: the document's own examples where it has them, else values of
 * the right type with the load templates (`{{seq}}`, `{{uuid}}`, a run-unique email) so unique columns never collide.
 */
export function exampleFromSchema(doc: Record<string, unknown>, schema: Schema | undefined, name = '', depth = 0): unknown {
  const s = resolve(doc, schema);
  if (!s || depth > 6) return null;
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.enum?.length) return s.enum[0];
  switch (s.type) {
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [exampleFromSchema(doc, s.items, name, depth + 1)];
    case 'string':
      if (s.format === 'email' || /email/i.test(name)) return 'load-{{run}}-{{seq}}@example.test';
      if (s.format === 'uuid') return '{{uuid}}';
      if (s.format === 'date-time') return '{{now}}';
      return `${name || 'value'} {{seq}}`;
    default: {
      const props = s.properties ?? {};
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, exampleFromSchema(doc, v, k, depth + 1)]));
    }
  }
}

/** Every operation of the document as `METHOD /path/:param`, with an example body for writes. */
export function openApiRoutes(raw: unknown): OpenApiRoute[] {
  const doc = (raw ?? {}) as Record<string, unknown>;
  const paths = (doc.paths ?? {}) as Record<string, Record<string, unknown>>;
  const base = typeof doc.basePath === 'string' ? doc.basePath.replace(/\/+$/, '') : '';
  const out: OpenApiRoute[] = [];
  for (const [p, ops] of Object.entries(paths)) {
    const path = `${base}${p}`.replace(/\{([^}]+)\}/g, (_m, n: string) => `:${n.replace(/[^A-Za-z0-9_]/g, '_')}`);
    for (const m of METHODS) {
      const op = ops?.[m] as { requestBody?: { content?: Record<string, { example?: unknown; schema?: Schema }> }; parameters?: { in?: string; schema?: Schema }[] } | undefined;
      if (!op) continue;
      const json = op.requestBody?.content?.['application/json'];
      const swaggerBody = op.parameters?.find((x) => x.in === 'body')?.schema;
      const example = json?.example ?? (json?.schema || swaggerBody ? exampleFromSchema(doc, json?.schema ?? swaggerBody) : undefined);
      out.push({ method: m.toUpperCase(), path, example });
    }
  }
  return out;
}
