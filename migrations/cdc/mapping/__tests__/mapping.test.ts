import { loadPlan } from '../../../../control/plan';
import { ContextMapping } from '../context-mapping';
import { MappingConfigError, RowMappingError } from '../errors';
import { fromDebezium } from '../values';
import type { ColumnInfo } from '../catalog';

const plan = loadPlan(undefined, {});
const users = new ContextMapping(plan.contexts.users.tables);
const orders = new ContextMapping(plan.contexts.orders.tables);

describe('ContextMapping from the demo plan', () => {
  it('renames users.name to full_name forward and back', () => {
    const m = users.forMonolithTable('users');
    expect(m?.kind).toBe('rows');
    const row = { id: 1, email: 'a@example.com', name: 'Ada', created_at: '2024-01-01T00:00:00Z' };
    const service = users.toServiceRow(m as never, row);
    expect(service).toEqual({ id: 1, email: 'a@example.com', full_name: 'Ada', created_at: '2024-01-01T00:00:00Z' });
    expect(users.toMonolithRows('users', service)).toEqual({ table: 'users', row, children: [] });
  });

  it('drops the columns the plan drops, and leaves service-only columns behind on the way back', () => {
    const m = new ContextMapping({ users: { table: 'people', columns: { name: 'full_name' }, drop: ['legacy_flag'] } });
    const rows = m.forMonolithTable('users') as never;
    expect(m.toServiceRow(rows, { id: 1, name: 'Ada', legacy_flag: true })).toEqual({ id: 1, full_name: 'Ada' });
    const back = m.toMonolithRows('people', { id: 1, full_name: 'Ada', nickname: 'A' }, (c) => c !== 'nickname');
    expect(back.row).toEqual({ id: 1, name: 'Ada' });
  });

  it('folds order_items into orders.items by position, and unfolds them with position = index', () => {
    const parent = orders.rowsForServiceTable('orders')!;
    const items = [
      { id: 12, order_id: 7, position: 1, sku: 'B', quantity: 2, unit_price_cents: 250 },
      { id: 11, order_id: 7, position: 0, sku: 'A', quantity: 1, unit_price_cents: 100 },
    ];
    const service = orders.toServiceAggregate(parent, { id: 7, status: 'paid' }, { order_items: items });
    expect(service).toEqual({
      id: 7,
      status: 'paid',
      items: [
        { sku: 'A', quantity: 1, unitPriceCents: 100 },
        { sku: 'B', quantity: 2, unitPriceCents: 250 },
      ],
    });

    // Debezium sends jsonb as JSON text; the parent row loses the array, the children come back in order.
    const back = orders.toMonolithRows('orders', { ...service, items: JSON.stringify(service.items) });
    expect(back.table).toBe('orders');
    expect(back.row).toEqual({ id: 7, status: 'paid' });
    expect(back.children).toHaveLength(1);
    expect(back.children[0].mapping.monolithTable).toBe('order_items');
    expect(back.children[0].rows).toEqual([
      { sku: 'A', quantity: 1, unit_price_cents: 100, position: 0 },
      { sku: 'B', quantity: 2, unit_price_cents: 250, position: 1 },
    ]);
  });

  it('maps one child row to its array element', () => {
    const embed = orders.forMonolithTable('order_items');
    expect(embed?.kind).toBe('embed');
    expect(orders.toElement(embed as never, { id: 1, order_id: 7, position: 0, sku: 'A', quantity: 3, unit_price_cents: 5 })).toEqual({
      sku: 'A',
      quantity: 3,
      unitPriceCents: 5,
    });
    expect(() => orders.toElement(embed as never, { id: 1, order_id: 7 })).toThrow(RowMappingError);
  });

  it('rejects an items value that is not a JSON array as a row error', () => {
    expect(() => orders.toMonolithRows('orders', { id: 1, items: '{"not":"an array"}' })).toThrow(RowMappingError);
    expect(() => orders.toMonolithRows('orders', { id: 1, items: '[1' })).toThrow(/not valid JSON/);
    expect(() => orders.toMonolithRows('payments', { id: 1 })).toThrow(RowMappingError);
  });

  it('refuses mappings that cannot work', () => {
    const embedOnly = { order_items: { table: 'orders', columns: {}, drop: [], embed: { column: 'items', parentKey: 'order_id', fields: { sku: 'sku' } } } };
    expect(() => new ContextMapping(embedOnly)).toThrow(MappingConfigError);
    expect(() => new ContextMapping({ a: { table: 't', columns: {}, drop: [] }, b: { table: 't', columns: {}, drop: [] } })).toThrow(/already receives/);
  });
});

describe('fromDebezium', () => {
  const col = (type: string, isArray = false, precision: number | null = null): ColumnInfo => ({
    name: 'c',
    type,
    isArray,
    precision: precision ?? (['timestamp', 'time'].includes(type) ? 6 : null),
    scale: null,
    length: null,
    notNull: false,
    hasDefault: false,
  });

  it('turns Debezium numbers for time types back into Postgres text, keeping microseconds', () => {
    expect(fromDebezium(1_700_000_000_123_456, col('timestamp'))).toBe('2023-11-14T22:13:20.123456');
    expect(fromDebezium(19_723, col('date'))).toBe('2024-01-01');
    expect(fromDebezium(3_723_000_001, col('time'))).toBe('01:02:03.000001');
    expect(fromDebezium(1_500_000, col('interval'))).toBe('1500000 microseconds');
  });

  it('reads timestamp(0-3) and time(0-3) numbers as milliseconds, as adaptive precision mode writes them', () => {
    expect(fromDebezium(1_704_164_645_123, col('timestamp', false, 3))).toBe('2024-01-02T03:04:05.123000');
    expect(fromDebezium(45_296_789, col('time', false, 0))).toBe('12:34:56.789000');
    expect(fromDebezium('infinity', col('timestamp'))).toBe('infinity');
  });

  it('passes strings Postgres parses itself and serialises JSON values', () => {
    expect(fromDebezium('2024-01-01T00:00:00.5Z', col('timestamptz'))).toBe('2024-01-01T00:00:00.5Z');
    expect(fromDebezium('12.50', col('numeric'))).toBe('12.50');
    expect(fromDebezium('[{"a":1}]', col('jsonb'))).toBe('[{"a":1}]');
    expect(fromDebezium([{ a: 1 }], col('jsonb'))).toBe('[{"a":1}]');
    expect(fromDebezium(Buffer.from('hi').toString('base64'), col('bytea'))).toEqual(Buffer.from('hi'));
    expect(fromDebezium([19_723], col('date', true))).toEqual(['2024-01-01']);
    expect(fromDebezium(null, col('int4'))).toBeNull();
  });
});
