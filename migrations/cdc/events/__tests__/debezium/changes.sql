-- Changes made while capture streams (ops c, u, d, primary-key change, unchanged TOAST, truncate).
INSERT INTO everything (id,b,b1,b8,vb,vb20,i2,i4,i8,f4,f8,o,n102,n5,nv,nbig,dec,m,c,vc,t,ci,nm,d,ts,ts3,ts0,tstz,tstz3,tm,tm3,tmtz,iv,by,j,jb,x,u,pt,lt,hs,ip,cd,mac,mac8,r4,r8,rn,rts,rtstz,rd,e,dp,dm,ai,at,an,ad,ats,au,ajb,ae,tv,big)
VALUES (100, false, B'0', B'00000001', B'1', B'0', 32767, -2147483648, -9007199254740991, -3.5, 0.1, 0,
 -0.05, 7, 100, -0.0000000001, 999.999, -1234567.89,
 'x', '', 'line1
line2', 'ünïcode ✓', 'n',
 '1970-01-01', '1969-12-31 23:59:59.999999', '0001-01-01 00:00:00', '2038-01-19 03:14:07', '1900-06-30 12:00:00.5-03:30', '2024-02-29 23:59:59.999+00', '00:00:00', '23:59:59.999', '00:00:01-08', '-1 days 02:00:00',
 '\x', '[]', '{}', '<r/>', '00000000-0000-0000-0000-000000000000',
 '(0,0)', 'top', 'a=>b', '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff',
 'empty', '(,)', '[0,0]', '(,2024-01-01 00:00)', 'empty', '[2024-01-01,)',
 'sad', 1, -0.01,
 '{}', '{""}', '{-1.50}', '{1969-12-31}', '{NULL}', '{}', '{}', '{}',
 '', 'small');
UPDATE everything SET t = 'changed', n102 = 99.99, hs = 'a=>1, b=>2, c=>3' WHERE id = 100;
INSERT INTO everything (id, big) SELECT 101, string_agg(md5(i::text), '') FROM generate_series(1, 300) AS i;
UPDATE everything SET i4 = 1 WHERE id = 101;
BEGIN;
UPDATE everything SET id = 200 WHERE id = 100;
INSERT INTO everything (id, n102, nv, m, d, ts, ts3, tstz) VALUES (102, 'NaN', 'NaN', 1.5, 'infinity', 'infinity', '-infinity', 'infinity');
COMMIT;
DELETE FROM everything WHERE id IN (2, 102);
INSERT INTO everything (id, nv, d, ts) VALUES (103, -2.50, '-infinity', '-infinity');
INSERT INTO scratch VALUES (1, 'gone soon');
TRUNCATE scratch;
-- Logical-decoding messages: Debezium's <prefix>.message events (op m), one outside a transaction, one inside.
SELECT pg_logical_emit_message(false, 'app.audit', 'outside a transaction');
BEGIN;
SELECT pg_logical_emit_message(true, 'app.audit', 'inside ✓');
INSERT INTO scratch VALUES (2, 'last');
COMMIT;
