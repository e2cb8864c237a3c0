import type { ReceivedMessage } from '../../../../lib/messaging/types';
import { LEGACY_FORMAT_VERSION } from '../../events/envelope';
import type { ValueFormat } from '../../events/options';
import { fromDebezium, type ColumnInfo } from '../../mapping';
import { decodeMessage } from '../decode';

const PRECISE: ValueFormat = { decimal: 'precise', time: 'adaptive', binary: 'bytes' };
const numeric = (format: ValueFormat): ColumnInfo => ({
  name: 'price',
  type: 'numeric',
  isArray: false,
  precision: null,
  scale: 2,
  length: null,
  format,
  notNull: false,
  hasDefault: false,
});

const source = (extra: Record<string, unknown>) => ({
  connector: 'postgresql',
  name: 'monolith',
  ts_ms: 1,
  snapshot: 'false',
  db: 'shop',
  sequence: null,
  schema: 'public',
  table: 'orders',
  txId: 1,
  lsn: 1,
  xmin: null,
  ...extra,
});

function message(value: unknown): ReceivedMessage {
  return { topic: 't', partition: 0, offset: '0', key: JSON.stringify({ id: 1 }), value: Buffer.from(JSON.stringify(value)), headers: {} } as unknown as ReceivedMessage;
}

function priceOf(value: unknown, format: ValueFormat): unknown {
  const decoded = decodeMessage(message(value));
  if (decoded.kind !== 'change') throw new Error('not a change');
  return fromDebezium(decoded.event.after!.price, numeric(format));
}

describe('sink: decimals in every encoding a topic may hold', () => {
  it('decodes precise base64 with the target column scale when the event has no schema', () => {
    const event = { before: null, after: { id: 1, price: 'AeI6' }, source: source({ version: '3.6.1.Final', ts_us: 1000 }), op: 'c', ts_ms: 1 };
    expect(priceOf(event, PRECISE)).toBe('1234.50');
  });

  it('still applies what our source wrote before 3.6 (string decimals) in a pipeline now set to precise', () => {
    // "1234" is valid base64 too: read as precise it would be garbage.
    const event = { before: null, after: { id: 1, price: '1234' }, source: source({ version: LEGACY_FORMAT_VERSION }), op: 'c', ts_ms: 1 };
    expect(priceOf(event, PRECISE)).toBe('1234');
  });

  it('takes the scale from the schema when the event carries one, whatever the pipeline says', () => {
    const schema = {
      type: 'struct',
      fields: [
        { type: 'struct', field: 'before', fields: [] },
        { type: 'struct', field: 'after', fields: [{ type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '3' }, field: 'price' }] },
      ],
    };
    const payload = { before: null, after: { id: 1, price: 'AeI6' }, source: source({ version: '3.6.1.Final', ts_us: 1000 }), op: 'c', ts_ms: 1 };
    expect(priceOf({ schema, payload }, { decimal: 'string', time: 'adaptive', binary: 'bytes' })).toBe('123.450');
  });

  it('reads variable-scale structs, doubles and string mode special values', () => {
    const event = (price: unknown) => ({ before: null, after: { id: 1, price }, source: source({ version: '3.6.1.Final', ts_us: 1000 }), op: 'c', ts_ms: 1 });
    expect(priceOf(event({ scale: 1, value: '5w==' }), PRECISE)).toBe('-2.5');
    expect(priceOf(event(12.5), { decimal: 'double', time: 'adaptive', binary: 'bytes' })).toBe(12.5);
    expect(priceOf(event('NAN'), { decimal: 'string', time: 'adaptive', binary: 'bytes' })).toBe('NaN');
  });
});
