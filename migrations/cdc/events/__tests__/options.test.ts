import { planSchema } from '../../../../control/plan';
import { eventOptionsFrom } from '../options';

const plan = (cdc: unknown) =>
  planSchema.safeParse({
    version: 1,
    monolith: { url: 'http://127.0.0.1:3000', database: 'monolith' },
    contexts: { users: { service: { url: 'http://127.0.0.1:3101', database: 'users' }, routes: ['* /api/users'], cdc } },
  });

describe("pipeline options under Debezium's names", () => {
  it('survive a trip through JSON, as a definition sent to a child process does', () => {
    const options = eventOptionsFrom({ 'skipped.operations': 'c,t' }, 'forward');
    expect(JSON.parse(JSON.stringify(options))).toEqual(options);
  });

  it("defaults to Debezium's: precise decimals, adaptive times, bytes, truncates skipped, tombstones, no transaction metadata, no schemas", () => {
    expect(eventOptionsFrom(undefined, 'forward')).toEqual({
      decimal: 'precise',
      time: 'adaptive',
      binary: 'bytes',
      skipped: ['t'],
      tombstones: true,
      transactionMetadata: false,
      keySchemas: false,
      valueSchemas: false,
      // Debezium's default takes every message prefix; ours none (our heartbeats would be events).
      messagePrefixes: [],
    });
  });

  it('reads the schema, binary, time and message options', () => {
    const parsed = plan({
      'key.converter.schemas.enable': true,
      'value.converter.schemas.enable': true,
      'binary.handling.mode': 'hex',
      'time.precision.mode': 'adaptive_time_microseconds',
      'message.prefix.include.list': 'app\\..*,audit',
    });
    if (!parsed.success) throw parsed.error;
    expect(eventOptionsFrom(parsed.data.contexts.users.cdc, 'forward')).toMatchObject({
      keySchemas: true,
      valueSchemas: true,
      binary: 'hex',
      time: 'adaptive_time_microseconds',
      messagePrefixes: ['app\\..*', 'audit'],
    });
  });

  it('applies the context options to both pipelines and a direction block to its own', () => {
    const parsed = plan({ 'decimal.handling.mode': 'string', 'provide.transaction.metadata': true, reverse: { 'skipped.operations': 'none', 'time.precision.mode': 'connect' } });
    if (!parsed.success) throw parsed.error;
    const cdc = parsed.data.contexts.users.cdc;
    expect(eventOptionsFrom(cdc, 'forward')).toMatchObject({ decimal: 'string', time: 'adaptive', skipped: ['t'], transactionMetadata: true });
    expect(eventOptionsFrom(cdc, 'reverse')).toMatchObject({ decimal: 'string', time: 'connect', skipped: [], transactionMetadata: true });
    expect(eventOptionsFrom(plan({ 'skipped.operations': 'c,d' }).data?.contexts.users.cdc, 'forward').skipped).toEqual(['c', 'd']);
  });

  it('names the field of a misspelt option or a bad value', () => {
    const issues = (cdc: unknown) => {
      const parsed = plan(cdc);
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ 'decimal.handling.mod': 'string' })).toEqual(['contexts.users.cdc: unknown key (did you mean "decimal.handling.mode"?)']);
    expect(issues({ 'skipped.operations': 'x' })).toEqual(['contexts.users.cdc.skipped.operations: must be "none" or a comma-separated list of c, u, d, t']);
    expect(issues({ forward: { 'decimal.handling.mode': 'exact' } })[0]).toMatch(/^contexts\.users\.cdc\.forward\.decimal\.handling\.mode: /);
    expect(issues({ 'message.prefix.include.list': 'app,(' })).toEqual(['contexts.users.cdc.message.prefix.include.list: must be comma-separated regular expressions']);
    expect(issues({ 'binary.handling.mode': 'base32' })[0]).toMatch(/^contexts\.users\.cdc\.binary\.handling\.mode: /);
  });
});
