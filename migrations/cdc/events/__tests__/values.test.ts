import { parseArrayText } from '../pg-array';
import { formatUtcTimestamp, parseIntervalMicros, parseTimestampMicros } from '../temporal';
import { encodeDecimal } from '../numeric';
import type { ValueFormat } from '../options';
import { encodeBits, hstoreJson } from '../special-types';
import { PgType, decoderFor } from '../values';

const decode = (oid: number, text: string, typeMod = -1, format: ValueFormat = { decimal: 'string', time: 'adaptive', binary: 'bytes' }) =>
  decoderFor({ typeOid: oid, typeMod }, format)!(text);

describe('Debezium value mapping', () => {
  it('keeps numbers numeric and decimals exact as strings', () => {
    expect(decode(PgType.int4, '-42')).toBe(-42);
    expect(decode(PgType.int8, '12345678901')).toBe(12345678901);
    expect(decode(PgType.numeric, '12.500')).toBe('12.500');
    expect(decode(PgType.float8, '1e-7')).toBe(1e-7);
    expect(decode(PgType.float8, 'Infinity')).toBe('Infinity');
    expect(decode(PgType.float4, '-Infinity')).toBe('-Infinity');
    expect(decode(PgType.bool, 'f')).toBe(false);
  });

  it('writes timestamptz in UTC with the column precision, like ZonedTimestamp', () => {
    expect(decode(PgType.timestamptz, '2024-06-30 23:30:00.5-01:30')).toBe('2024-07-01T01:00:00.500000Z');
    expect(decode(PgType.timestamptz, '2024-06-30 23:30:00+00', 0)).toBe('2024-06-30T23:30:00Z');
    expect(decode(PgType.timestamptz, '2024-06-30 23:30:00.12+00', 2)).toBe('2024-06-30T23:30:00.12Z');
    expect(decode(PgType.timestamptz, 'infinity')).toBe('infinity');
  });

  it('counts timestamps in micro- or milliseconds by precision, dates in days', () => {
    expect(decode(PgType.timestamp, '1970-01-01 00:00:01.000001')).toBe(1_000_001);
    expect(decode(PgType.timestamp, '1969-12-31 23:59:59.5', 3)).toBe(-500);
    expect(decode(PgType.date, '1970-01-02')).toBe(1);
    expect(decode(PgType.date, '1969-12-31')).toBe(-1);
    expect(decode(PgType.time, '24:00:00')).toBe(86_400_000_000);
    expect(decode(PgType.time, '00:00:01.5', 3)).toBe(1_500);
  });

  it('parses times before year 0 and far in the future', () => {
    const micros = parseTimestampMicros('0044-03-15 12:00:00+00 BC', true);
    expect(formatUtcTimestamp(micros, 0)).toBe('-0043-03-15T12:00:00Z');
    expect(formatUtcTimestamp(parseTimestampMicros('12000-01-01 00:00:00+00', true), 0)).toBe('+12000-01-01T00:00:00Z');
  });

  it('turns ISO intervals into microseconds with Debezium\'s average month', () => {
    expect(parseIntervalMicros('PT0S')).toBe(0);
    expect(parseIntervalMicros('PT1.5S')).toBe(1_500_000);
    expect(parseIntervalMicros('P-1DT2H')).toBe(-86_400_000_000 + 7_200_000_000);
    expect(parseIntervalMicros('P1M')).toBe(30.4375 * 86_400_000_000);
  });

  it('encodes bytea as base64 and keeps json as its text', () => {
    expect(decode(PgType.bytea, '\\xdeadbeef')).toBe(Buffer.from('deadbeef', 'hex').toString('base64'));
    expect(decode(PgType.jsonb, '{"a": 1}')).toBe('{"a": 1}');
  });

  it('maps arrays element by element', () => {
    expect(decode(1007, '{1,NULL,3}')).toEqual([1, null, 3]);
    expect(decode(1009, '{"a,b","say \\"hi\\"",NULL,"NULL"}')).toEqual(['a,b', 'say "hi"', null, 'NULL']);
    expect(decode(1007, '[0:1]={5,6}')).toEqual([5, 6]);
    expect(parseArrayText('{{1,2},{3,4}}')).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(decode(1009, '{}')).toEqual([]);
  });

  it('passes unknown types (enums, ranges, custom) through as text', () => {
    expect(decode(999_999, '[1,5)')).toBe('[1,5)');
  });
});

describe('Debezium 3.6 encodings beyond the parity fixtures', () => {
  const precise: ValueFormat = { decimal: 'precise', time: 'adaptive', binary: 'bytes' };

  it('writes precise decimals as Java BigInteger.toByteArray does, at the column scale', () => {
    const at = (text: string, scale: number) => encodeDecimal(text, scale, 'precise');
    expect(at('0', 2)).toBe('AA==');
    expect(at('-0.01', 2)).toBe('/w==');
    expect(at('1.28', 2)).toBe('AIA='); // 128 needs a sign byte
    expect(at('-1.28', 2)).toBe('gA==');
    expect(at('-1.29', 2)).toBe('/38=');
    expect(at('1234.5', 2)).toBe('AeI6');
    expect(encodeDecimal('100.000', null, 'precise')).toEqual({ scale: 0, value: 'ZA==' });
    expect(encodeDecimal('Infinity', 2, 'string')).toBe('POSITIVE_INFINITY');
    expect(decode(1700, 'NaN', -1, precise)).toBeNull();
  });

  it('orders hstore keys as a java.util.HashMap iterates them, resizes included', () => {
    // The order Java 17 printed for these keys inserted in this order (HashMap grows from 16 to 32 buckets here).
    const keys = [...Array.from({ length: 20 }, (_, i) => `key${i}`), 'ä', 'Zebra', ''];
    const text = keys.map((k, i) => `"${k}"=>"${i}"`).join(', ');
    expect(Object.keys(JSON.parse(hstoreJson(text)) as object)).toHaveLength(23);
    const order = [...hstoreJson(text).matchAll(/"([^"]*)":"\d+"/g)].map((m) => m[1]);
    expect(order).toEqual('key1,,key2,key0,key5,ä,key6,Zebra,key3,key4,key9,key7,key8,key11,key10,key15,key14,key13,key12,key19,key18,key17,key16'.split(','));
  });

  it('writes bit strings as little-endian bytes of their value, bit(1) as a boolean', () => {
    expect(encodeBits('10100101')).toBe(Buffer.from([0xa5]).toString('base64'));
    expect(encodeBits('1100110011')).toBe(Buffer.from([0x33, 0x03]).toString('base64'));
    expect(encodeBits('0000')).toBe('');
    expect(decode(1560, '1', 1, precise)).toBe(true);
  });
});
