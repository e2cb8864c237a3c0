-- The tables the Debezium 3.6.1 fixtures were captured from (see README.md here). Extensions as in the docs'
-- data type mappings; line, lseg, box, path, polygon and circle have no Debezium mapping and are left out of events.
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN money2 AS numeric(8,2);
CREATE TABLE everything (
  id serial PRIMARY KEY,
  b boolean, b1 bit(1), b8 bit(8), vb varbit, vb20 varbit(20),
  i2 int2, i4 int4, i8 int8, f4 real, f8 float8, o oid,
  n102 numeric(10,2), n5 numeric(5), nv numeric, nbig numeric(38,10), dec decimal(6,3), m money,
  c char(5), vc varchar(10), t text, ci citext, nm name,
  d date, ts timestamp, ts3 timestamp(3), ts0 timestamp(0), tstz timestamptz, tstz3 timestamptz(3), tm time, tm3 time(3), tmtz timetz, iv interval,
  by bytea, j json, jb jsonb, x xml, u uuid,
  pt point, ln line, ls lseg, bx box, pa path, pg polygon, cr circle,
  lt ltree, hs hstore, ip inet, cd cidr, mac macaddr, mac8 macaddr8,
  r4 int4range, r8 int8range, rn numrange, rts tsrange, rtstz tstzrange, rd daterange,
  e mood, dp posint, dm money2,
  ai int4[], at text[], an numeric[], ad date[], ats timestamp[], au uuid[], ajb jsonb[], ae mood[],
  tv tsvector,
  big text
);
-- Debezium's before carries every column only with FULL identity; our source sets it on every captured table.
ALTER TABLE everything REPLICA IDENTITY FULL;
CREATE TABLE scratch (id int PRIMARY KEY, v text);
ALTER TABLE scratch REPLICA IDENTITY FULL;
