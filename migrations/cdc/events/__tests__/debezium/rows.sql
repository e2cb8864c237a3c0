-- Rows present before capture starts: they arrive as the snapshot (op r).
INSERT INTO everything (b,b1,b8,vb,vb20,i2,i4,i8,f4,f8,o,n102,n5,nv,nbig,dec,m,c,vc,t,ci,nm,d,ts,ts3,ts0,tstz,tstz3,tm,tm3,tmtz,iv,by,j,jb,x,u,pt,ln,ls,bx,pa,pg,cr,lt,hs,ip,cd,mac,mac8,r4,r8,rn,rts,rtstz,rd,e,dp,dm,ai,at,an,ad,ats,au,ajb,ae,tv,big)
VALUES (true, B'1', B'10100101', B'101', B'1100110011', -7, 42, 9007199254740991, 0.25, -1.5e300, 12345,
 1234.50, -99999, 3.14159, 12345678901234567890.0123456789, -1.5, 12.34,
 'ab', 'héllo', 'quote "x"', 'MiXeD', 'nm1',
 '2024-01-02', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123', '2024-01-02 03:04:05', '2024-01-02 03:04:05.123456+02', '2024-01-02 03:04:05.1+00', '12:34:56.789', '12:34:56.789', '10:34:56+02', '1 year 2 mons 3 days 04:05:06.5',
 '\x0001feff', '{ "x" : 1 }', '{"b": null, "a": [1,2]}', '<a>1</a>', '0e5d6f4c-79a2-4a7e-9a35-6c1b2b7d8e9f',
 '(1.5,-2)', '{1,-1,0}', '[(0,0),(1,1)]', '((2,2),(0,0))', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(1,0))', '<(1,1),2>',
 'a.b.c', 'k1=>v1, "k 2"=>NULL, a=>"x\"y", zz=>""', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
 '[1,10)', '[5,)', '(1.5,2.5]', '[2024-01-01 00:00,2024-02-01 00:00)', '[2024-01-01 00:00+00,2024-02-01 00:00+00)', '[2024-01-01,2024-02-01)',
 'happy', 5, 7.25,
 '{1,2,NULL}', '{"a","b c",NULL}', '{1.5,2,NULL}', '{2024-01-02}', '{"2024-01-02 03:04:05.5"}', '{0e5d6f4c-79a2-4a7e-9a35-6c1b2b7d8e9f}', ARRAY['{"a":1}'::jsonb], '{ok,sad}',
 'a fat cat', 'small');
INSERT INTO everything (n102, nv, nbig, m, d, ts, ts3, tstz, f4, f8, dec) VALUES ('NaN', 'NaN', 0, -0.99, 'infinity', 'infinity', '-infinity', 'infinity', 'NaN', '-Infinity', 0.001);
INSERT INTO everything (n102, nv, d, ts, tstz, m, nbig, b8, vb) VALUES (-0.01, 1e-20, '-infinity', '-infinity', '-infinity', 92233720368547758.07, -1, B'00000000', B'0001');
INSERT INTO everything (nv, n5, n102, b1, vb20) VALUES (123456789012345678901234567890, 0, 0, B'0', B'');
