import type { ColumnInfo } from './columns';
import type { EventOptions } from './options';
import { PgType, arrayElementOf } from './values';

/**
 * The Kafka Connect schemas Debezium 3.6's PostgreSQL connector gives its records, as the JSON converter writes them
 * with `schemas.enable=true` (`{"schema", "payload"}`). Built once per table: a field's schema JSON keeps the
 * converter's member order (type, fields/items, optional, name, version, doc, parameters, default, field), so the
 * text is the converter's. Compared with real Debezium's in __tests__/debezium-parity.test.ts.
 */
export interface ConnectSchema {
  type: string;
  fields?: ConnectSchema[];
  items?: ConnectSchema;
  optional: boolean;
  name?: string;
  version?: number;
  doc?: string;
  parameters?: Record<string, string>;
  default?: unknown;
  field?: string;
}

/** A schema with its members in the converter's order (object keys keep insertion order in JSON.stringify). */
function schema(type: string, extra: Omit<ConnectSchema, 'type' | 'optional'> = {}, optional = true): ConnectSchema {
  const { fields, items, name, version, doc, parameters } = extra;
  const out: ConnectSchema = { type } as ConnectSchema;
  if (fields) out.fields = fields;
  if (items) out.items = items;
  out.optional = optional;
  if (name) {
    out.name = name;
    if (version !== undefined) out.version = version;
  }
  if (doc) out.doc = doc;
  if (parameters) out.parameters = parameters;
  return out;
}

/** A logical type of Debezium's or Connect's: a name and version 1. */
const logical = (type: string, name: string, parameters?: Record<string, string>) => schema(type, { name, version: 1, parameters });

const withField = (s: ConnectSchema, field: string, defaultValue?: unknown): ConnectSchema => ({
  ...s,
  ...(defaultValue !== undefined ? { default: defaultValue } : {}),
  field,
});

const VARIABLE_SCALE_DECIMAL = schema('struct', {
  fields: [withField(schema('int32', {}, false), 'scale'), withField(schema('bytes', {}, false), 'value')],
  name: 'io.debezium.data.VariableScaleDecimal',
  version: 1,
  doc: 'Variable scaled decimal',
});

const POINT = schema('struct', {
  fields: [
    withField(schema('double', {}, false), 'x'),
    withField(schema('double', {}, false), 'y'),
    withField(schema('bytes'), 'wkb'),
    withField(schema('int32'), 'srid'),
  ],
  name: 'io.debezium.data.geometry.Point',
  version: 1,
  doc: 'Geometry (POINT)',
});

const NAMED_STRINGS: Record<number, string> = {
  [PgType.json]: 'io.debezium.data.Json',
  [PgType.jsonb]: 'io.debezium.data.Json',
  [PgType.xml]: 'io.debezium.data.Xml',
  [PgType.uuid]: 'io.debezium.data.Uuid',
  [PgType.timestamptz]: 'io.debezium.time.ZonedTimestamp',
  [PgType.timetz]: 'io.debezium.time.ZonedTime',
  3614: 'io.debezium.data.Tsvector',
};
const NAMED_EXTENSION_STRINGS: Record<string, string> = { ltree: 'io.debezium.data.Ltree', hstore: 'io.debezium.data.Json' };

const precisionOf = (typeMod: number) => (typeMod < 0 ? 6 : typeMod);

function decimalSchema(options: EventOptions, scale: number, precision: number | null): ConnectSchema {
  if (options.decimal === 'string') return schema('string');
  if (options.decimal === 'double') return schema('double');
  const parameters: Record<string, string> = { scale: String(scale) };
  if (precision !== null) parameters['connect.decimal.precision'] = String(precision);
  return logical('bytes', 'org.apache.kafka.connect.data.Decimal', parameters);
}

function temporalSchema(type: ColumnSchemaInput, options: EventOptions): ConnectSchema | null {
  const connect = options.time === 'connect';
  const millis = precisionOf(type.typeMod) <= 3;
  switch (type.typeOid) {
    case PgType.date:
      return logical('int32', connect ? 'org.apache.kafka.connect.data.Date' : 'io.debezium.time.Date');
    case PgType.timestamp:
      if (connect) return logical('int64', 'org.apache.kafka.connect.data.Timestamp');
      return logical('int64', millis ? 'io.debezium.time.Timestamp' : 'io.debezium.time.MicroTimestamp');
    case PgType.time:
      if (connect) return logical('int32', 'org.apache.kafka.connect.data.Time');
      if (options.time === 'adaptive_time_microseconds' || !millis) return logical('int64', 'io.debezium.time.MicroTime');
      return logical('int32', 'io.debezium.time.Time');
    case PgType.interval:
      return logical('int64', 'io.debezium.time.MicroDuration');
    default:
      return null;
  }
}

type ColumnSchemaInput = Pick<ColumnInfo, 'typeOid' | 'typeMod' | 'typeName' | 'enumLabels'>;

/** The schema of one (non-array) value of a column's type. */
function scalarSchema(type: ColumnSchemaInput, options: EventOptions): ConnectSchema {
  switch (type.typeOid) {
    case PgType.bool:
      return schema('boolean');
    case PgType.int2:
      return schema('int16');
    case PgType.int4:
      return schema('int32');
    case PgType.int8:
    case PgType.oid:
      return schema('int64');
    case PgType.float4:
      return schema('float');
    case PgType.float8:
      return schema('double');
    case PgType.numeric: {
      if (type.typeMod < 0) return options.decimal === 'precise' ? VARIABLE_SCALE_DECIMAL : decimalSchema(options, 0, null);
      return decimalSchema(options, (type.typeMod - 4) & 0xffff, ((type.typeMod - 4) >> 16) & 0xffff);
    }
    case PgType.money:
      return decimalSchema(options, 2, null);
    case PgType.bytea:
      return schema(options.binary === 'bytes' ? 'bytes' : 'string');
    case PgType.bit:
    case PgType.varbit:
      if (type.typeMod === 1) return schema('boolean');
      return logical('bytes', 'io.debezium.data.Bits', { length: String(type.typeMod < 0 ? 2147483647 : type.typeMod) });
    case PgType.point:
      return POINT;
    default: {
      if (type.enumLabels != null) return logical('string', 'io.debezium.data.Enum', { allowed: type.enumLabels });
      const named = NAMED_STRINGS[type.typeOid] ?? NAMED_EXTENSION_STRINGS[type.typeName ?? ''];
      if (named) return logical('string', named);
      return temporalSchema(type, options) ?? schema('string');
    }
  }
}

/**
 * What Debezium puts in `default` for a column with a DEFAULT: the literal, converted like a value. An expression it
 * cannot evaluate (a sequence's nextval, now()) gives a NOT NULL column its type's fallback (0, "", false) and a
 * nullable one no default. Only integer, boolean and text columns are covered: others get no `default` (README).
 */
function defaultOf(column: ColumnInfo, { type, name }: ConnectSchema): unknown {
  if (column.defaultExpr == null) return undefined;
  const literal = /^'((?:[^']|'')*)'(?:::[\w\s".]+)?$|^\(?(-?\d+)\)?(?:::[\w\s".]+)?$|^(true|false)$/.exec(column.defaultExpr);
  if (type === 'int16' || type === 'int32' || type === 'int64') {
    const digits = literal?.[2] ?? literal?.[1];
    if (digits !== undefined && /^-?\d+$/.test(digits)) return Number(digits);
    return column.notNull ? 0 : undefined;
  }
  if (type === 'boolean') {
    if (literal?.[3]) return literal[3] === 'true';
    return column.notNull ? false : undefined;
  }
  if (type === 'string' && name === undefined) {
    if (literal?.[1] !== undefined) return literal[1].replace(/''/g, "'");
    return column.notNull ? '' : undefined;
  }
  return undefined;
}

/** A column's field schema in the Value and Key structs. */
export function columnSchema(column: ColumnInfo, options: EventOptions): ConnectSchema {
  const optional = !column.notNull;
  if (column.elementOid == null) {
    // Spreading keeps `optional` where it was: the member order stays the converter's.
    const s = { ...scalarSchema(column, options), optional };
    return withField(s, column.name, defaultOf(column, s));
  }
  // Elements have the schema of what values.ts writes for them: an enum's labels, text for other unknown arrays.
  const element = scalarSchema({ typeOid: arrayElementOf(column)!, typeMod: column.typeMod, enumLabels: column.enumLabels }, options);
  // Debezium marks an enum array's items as required, every other array's as optional.
  return withField(schema('array', { items: { ...element, optional: column.enumLabels == null } }, optional), column.name);
}

const SOURCE = schema(
  'struct',
  {
    fields: [
      withField(schema('string', {}, false), 'version'),
      withField(schema('string', {}, false), 'connector'),
      withField(schema('string', {}, false), 'name'),
      withField(schema('int64', {}, false), 'ts_ms'),
      withField(
        logical('string', 'io.debezium.data.Enum', { allowed: 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental' }),
        'snapshot',
        'false',
      ),
      withField(schema('string', {}, false), 'db'),
      withField(schema('string'), 'sequence'),
      withField(schema('int64'), 'ts_us'),
      withField(schema('int64'), 'ts_ns'),
      withField(schema('string', {}, false), 'schema'),
      withField(schema('string', {}, false), 'table'),
      withField(schema('int64'), 'txId'),
      withField(schema('int64'), 'lsn'),
      withField(schema('int64'), 'xmin'),
      withField(schema('string'), 'origin'),
      withField(schema('int64'), 'origin_lsn'),
    ],
    name: 'io.debezium.connector.postgresql.Source',
    version: 1,
  },
  false,
);

const TRANSACTION_BLOCK = schema('struct', {
  fields: [withField(schema('string', {}, false), 'id'), withField(schema('int64', {}, false), 'total_order'), withField(schema('int64', {}, false), 'data_collection_order')],
  name: 'event.block',
  version: 1,
});

/** The `schema` of a table's key records: its primary-key columns, in key order. */
export function keySchemaJson(topic: string, columns: ColumnInfo[], keyColumns: string[], options: EventOptions): string {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const fields = keyColumns.map((name) => columnSchema({ ...byName.get(name)!, notNull: true }, options));
  return JSON.stringify({ type: 'struct', fields, optional: false, name: `${topic}.Key` });
}

/** The `schema` of a table's change events: the Envelope with its Value struct as before and after. */
export function envelopeSchemaJson(topic: string, columns: ColumnInfo[], options: EventOptions): string {
  const value = (field: string) => ({ type: 'struct', fields: columns.map((c) => columnSchema(c, options)), optional: true, name: `${topic}.Value`, field });
  const fields = [
    value('before'),
    value('after'),
    withField(SOURCE, 'source'),
    withField(TRANSACTION_BLOCK, 'transaction'),
    withField(schema('string', {}, false), 'op'),
    withField(schema('int64'), 'ts_ms'),
    withField(schema('int64'), 'ts_us'),
    withField(schema('int64'), 'ts_ns'),
  ];
  return JSON.stringify({ type: 'struct', fields, optional: false, name: `${topic}.Envelope`, version: 2 });
}

const TRANSACTION_KEY = JSON.stringify(
  schema('struct', { fields: [withField(schema('string', {}, false), 'id')], name: 'io.debezium.connector.common.TransactionMetadataKey', version: 1 }, false),
);

const TRANSACTION_VALUE = JSON.stringify(
  schema(
    'struct',
    {
      fields: [
        withField(schema('string', {}, false), 'status'),
        withField(schema('string', {}, false), 'id'),
        withField(schema('int64'), 'event_count'),
        withField(
          schema('array', {
            items: schema('struct', {
              fields: [withField(schema('string', {}, false), 'data_collection'), withField(schema('int64', {}, false), 'event_count')],
              name: 'event.collection',
              version: 1,
            }),
          }),
          'data_collections',
        ),
        withField(schema('int64', {}, false), 'ts_ms'),
      ],
      name: 'io.debezium.connector.common.TransactionMetadataValue',
      version: 1,
    },
    false,
  ),
);

/** The schemas of BEGIN/END records on `<prefix>.transaction`. */
export const TRANSACTION_SCHEMAS = { key: TRANSACTION_KEY, value: TRANSACTION_VALUE };

const MESSAGE_KEY = JSON.stringify(
  schema('struct', { fields: [withField(schema('string'), 'prefix')], name: 'io.debezium.connector.postgresql.MessageKey', version: 1 }, false),
);

const messageValue = (contentType: string) =>
  JSON.stringify(
    schema(
      'struct',
      {
        fields: [
          withField(schema('string', {}, false), 'op'),
          withField(schema('int64'), 'ts_ms'),
          withField(SOURCE, 'source'),
          withField(TRANSACTION_BLOCK, 'transaction'),
          withField(
            schema('struct', { fields: [withField(schema('string'), 'prefix'), withField(schema(contentType), 'content')], name: 'io.debezium.connector.postgresql.Message', version: 1 }, false),
            'message',
          ),
        ],
        name: 'io.debezium.connector.postgresql.MessageValue',
        version: 1,
      },
      false,
    ),
  );

/** The schemas of `<prefix>.message` records: the content is bytes, or a string in the other binary.handling.modes. */
export function messageSchemas(options: EventOptions): { key: string; value: string } {
  return { key: MESSAGE_KEY, value: messageValue(options.binary === 'bytes' ? 'bytes' : 'string') };
}

/** A record's key or value as the JSON converter writes it with `schemas.enable=true`. */
export const withSchema = (schemaJson: string, payloadJson: string) => `{"schema":${schemaJson},"payload":${payloadJson}}`;
