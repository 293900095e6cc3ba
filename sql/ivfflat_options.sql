-- ivfflat options, settings, errors and notices, with pgvector's names, bounds and messages.
CREATE TABLE ivf_o (id int, v vector(3), u vector, w vector(2001));

-- lists: default 100, 1..32768
CREATE INDEX ON ivf_o USING ivfflat (v) WITH (lists = 0);
CREATE INDEX ON ivf_o USING ivfflat (v) WITH (lists = 32769);
CREATE INDEX ON ivf_o USING ivfflat (v) WITH (foo = 1);
-- an empty table: pgvector's notice
CREATE INDEX ivf_o_v ON ivf_o USING ivfflat (v) WITH (lists = 32768);
SELECT reloptions FROM pg_class WHERE relname = 'ivf_o_v';
DROP INDEX ivf_o_v;
-- the default operator class is vector_l2_ops; fewer rows than lists gives the notice
INSERT INTO ivf_o (id, v) SELECT i, format('[%s,%s,%s]', i, i % 5, i % 7)::vector FROM generate_series(1, 50) i;
CREATE INDEX ivf_o_v ON ivf_o USING ivfflat (v);
SELECT opcname FROM pg_index i JOIN pg_opclass o ON o.oid = i.indclass[0]
  WHERE i.indexrelid = 'ivf_o_v'::regclass;
DROP INDEX ivf_o_v;
CREATE INDEX ivf_o_v ON ivf_o USING ivfflat (v) WITH (lists = 5);
-- the access method and its operator classes
SELECT amname FROM pg_am WHERE amname = 'ivfflat' AND amtype = 'i';
SELECT opcname, opcdefault FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
  WHERE amname = 'ivfflat' ORDER BY opcname;

-- dimensions
CREATE INDEX ON ivf_o USING ivfflat (u);
CREATE INDEX ON ivf_o USING ivfflat (w);
-- unsupported operator class / operator
CREATE INDEX ON ivf_o USING ivfflat (v vector_l1_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_o ORDER BY v <+> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;

-- settings
SHOW ivfflat.probes;
SHOW ivfflat.iterative_scan;
SHOW ivfflat.max_probes;
SET ivfflat.probes = 0;
SET ivfflat.probes = 32769;
SET ivfflat.max_probes = 0;
SET ivfflat.iterative_scan = strict_order;
SET ivfflat.iterative_scan = relaxed_order;
SET ivfflat.nonexistent = 1;
RESET ivfflat.iterative_scan;
SET ragstore.max_threads = 0;
SHOW ragstore.max_threads;

-- iterative scan: a selective filter with one probe finds few rows; relaxed_order keeps probing
-- lists until LIMIT rows pass the filter; max_probes bounds it.
CREATE TABLE ivf_f (id int, v vector(2));
INSERT INTO ivf_f SELECT i, format('[%s,%s]', sin(i * 0.37) * i, cos(i * 0.37) * i)::vector
  FROM generate_series(1, 2000) i;
CREATE INDEX ON ivf_f USING ivfflat (v) WITH (lists = 40);
SET enable_seqscan = off;
SET ivfflat.probes = 1;
SELECT count(*) < 10 AS few_rows FROM
  (SELECT id FROM ivf_f WHERE id % 50 = 0 ORDER BY v <-> '[10,10]' LIMIT 10) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) AS rows FROM
  (SELECT id FROM ivf_f WHERE id % 50 = 0 ORDER BY v <-> '[10,10]' LIMIT 10) s;
SET ivfflat.max_probes = 1;
SELECT count(*) < 10 AS few_rows FROM
  (SELECT id FROM ivf_f WHERE id % 50 = 0 ORDER BY v <-> '[10,10]' LIMIT 10) s;
-- all lists: every matching row, no duplicates
RESET ivfflat.max_probes;
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows FROM
  (SELECT id FROM ivf_f WHERE id % 50 = 0 ORDER BY v <-> '[10,10]' LIMIT 100) s;
RESET ivfflat.iterative_scan;
RESET ivfflat.probes;
RESET enable_seqscan;

-- unlogged tables get an init fork
CREATE UNLOGGED TABLE ivf_u (v vector(3));
CREATE INDEX ivf_u_v ON ivf_u USING ivfflat (v) WITH (lists = 2);
INSERT INTO ivf_u VALUES ('[1,2,3]'), ('[4,5,6]');
SET enable_seqscan = off;
SELECT v FROM ivf_u ORDER BY v <-> '[4,5,5]' LIMIT 1;
RESET enable_seqscan;

DROP TABLE ivf_o, ivf_f, ivf_u;
