-- ragstore.verify_index: healthy indexes of every access method and operator class verify
-- clean (with heapallindexed), and a copy of an index corrupted on purpose (through the debug
-- function ragstore.debug_write_index_page) gets the problem named, block and item.
SET client_min_messages = warning;

-- ---- healthy: every operator class, NULLs, zero vectors (not indexed under cosine), deletes
CREATE TABLE verify_items (id int, v vector(3), h halfvec(3), s sparsevec(5), b bit(12));
INSERT INTO verify_items
  SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.7)], ARRAY[cos(i), sin(i * 1.3), 0.5],
         format('{1:%s,4:%s}/5', sin(i), cos(i))::sparsevec,
         (i * 37 % 4096)::bit(12)
  FROM generate_series(1, 600) i;
INSERT INTO verify_items VALUES (0, NULL, NULL, NULL, NULL),
  (-1, '[0,0,0]', '[0,0,0]', '{}/5', B'000000000000');
CREATE INDEX verify_h1 ON verify_items USING hnsw (v vector_l2_ops) WITH (m = 4);
CREATE INDEX verify_h2 ON verify_items USING hnsw (v vector_ip_ops);
CREATE INDEX verify_h3 ON verify_items USING hnsw (v vector_cosine_ops);
CREATE INDEX verify_h4 ON verify_items USING hnsw (v vector_l1_ops);
CREATE INDEX verify_h5 ON verify_items USING hnsw (h halfvec_l2_ops);
CREATE INDEX verify_h6 ON verify_items USING hnsw (h halfvec_ip_ops);
CREATE INDEX verify_h7 ON verify_items USING hnsw (h halfvec_cosine_ops);
CREATE INDEX verify_h8 ON verify_items USING hnsw (h halfvec_l1_ops);
CREATE INDEX verify_h9 ON verify_items USING hnsw (s sparsevec_l2_ops);
CREATE INDEX verify_h10 ON verify_items USING hnsw (s sparsevec_ip_ops);
CREATE INDEX verify_h11 ON verify_items USING hnsw (s sparsevec_cosine_ops);
CREATE INDEX verify_h12 ON verify_items USING hnsw (s sparsevec_l1_ops);
CREATE INDEX verify_h13 ON verify_items USING hnsw (b bit_hamming_ops);
CREATE INDEX verify_h14 ON verify_items USING hnsw (b bit_jaccard_ops);
CREATE INDEX verify_h15 ON verify_items USING hnsw (((v + '[1,1,1]')::vector(3)) vector_l2_ops) WHERE id % 2 = 0;
CREATE INDEX verify_i1 ON verify_items USING ivfflat (v vector_l2_ops) WITH (lists = 4);
CREATE INDEX verify_i2 ON verify_items USING ivfflat (v vector_ip_ops) WITH (lists = 4);
CREATE INDEX verify_i3 ON verify_items USING ivfflat (v vector_cosine_ops) WITH (lists = 4);
CREATE INDEX verify_i4 ON verify_items USING ivfflat (h halfvec_l2_ops) WITH (lists = 4);
CREATE INDEX verify_i5 ON verify_items USING ivfflat (h halfvec_ip_ops) WITH (lists = 4);
CREATE INDEX verify_i6 ON verify_items USING ivfflat (h halfvec_cosine_ops) WITH (lists = 4);
CREATE INDEX verify_i7 ON verify_items USING ivfflat (b bit_hamming_ops) WITH (lists = 4);
CREATE INDEX verify_i8 ON verify_items USING ivfflat (((v + '[1,1,1]')::vector(3)) vector_l2_ops) WITH (lists = 3) WHERE id % 2 = 0;
CREATE VIEW verify_all AS
  SELECT c.relname, v.*
  FROM pg_class c, LATERAL ragstore.verify_index(c.oid::regclass, true) v
  WHERE c.relname ~ '^verify_[hi][0-9]+$';
SELECT count(*) AS problems FROM verify_all;
-- the problems a healthy index must not have, after deletes, inserts (some into pages VACUUM
-- freed) and VACUUM
DELETE FROM verify_items WHERE id % 3 = 0;
INSERT INTO verify_items
  SELECT i, ARRAY[sin(i), cos(i), 0.1], ARRAY[0.2, sin(i), cos(i)], '{2:1}/5', (i % 4096)::bit(12)
  FROM generate_series(601, 700) i;
SELECT count(*) AS problems FROM verify_all;
VACUUM verify_items;
INSERT INTO verify_items
  SELECT i, ARRAY[cos(i), 0.3, sin(i)], ARRAY[sin(i), 0.2, cos(i)], '{3:2}/5', (i * 7 % 4096)::bit(12)
  FROM generate_series(701, 800) i;
SELECT count(*) AS problems FROM verify_all;
-- empty and unlogged indexes
CREATE UNLOGGED TABLE verify_empty (v vector(3));
CREATE INDEX ON verify_empty USING hnsw (v vector_l2_ops);
CREATE INDEX ON verify_empty USING ivfflat (v vector_l2_ops) WITH (lists = 2);
SELECT count(*) AS problems
  FROM pg_index i, LATERAL ragstore.verify_index(i.indexrelid::regclass, true) v
  WHERE i.indrelid = 'verify_empty'::regclass;

-- ---- wrong arguments: clear errors with their SQLSTATE
CREATE INDEX verify_btree ON verify_items (id);
DO $$ BEGIN PERFORM * FROM ragstore.verify_index('verify_btree');
  EXCEPTION WHEN wrong_object_type THEN RAISE WARNING '42809: %', SQLERRM; END $$;
DO $$ BEGIN PERFORM * FROM ragstore.verify_index('verify_items');
  EXCEPTION WHEN wrong_object_type THEN RAISE WARNING '42809: %', SQLERRM; END $$;
DO $$ BEGIN PERFORM ragstore.debug_write_index_page('verify_h1', 1, 1, 0, '\x00');
  EXCEPTION WHEN object_not_in_prerequisite_state THEN RAISE WARNING '55000: %', SQLERRM; END $$;

-- ---- corrupted copies (hnsw_page.h, ivf_page.h give the offsets)
SET ragstore.debug_functions = on;
CREATE TABLE verify_small (id int, v vector(3));
INSERT INTO verify_small SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.7)] FROM generate_series(1, 30) i;
CREATE INDEX verify_copy ON verify_small USING hnsw (v vector_l2_ops) WITH (m = 4);
SELECT count(*) AS problems FROM ragstore.verify_index('verify_copy', true);
-- A build writes the entry point first, followed by its neighbour tuple: (1,1) and (1,2).
-- element (1,1): level byte (offset 1) = 200
SELECT ragstore.debug_write_index_page('verify_copy', 1, 1, 1, '\xc8');
SELECT block, item, problem FROM ragstore.verify_index('verify_copy')
  WHERE problem <> 'unreachable element' ORDER BY 1, 2, 3;
-- no search can use the damaged entry point, so no row is reachable
SELECT count(*) FROM ragstore.verify_index('verify_copy') WHERE problem = 'unreachable element';
-- a search that reads a damaged tuple stops with index_corrupted, naming the index, block and
-- offset (the entry point is the first element every search reads)
SET enable_seqscan = off;
DO $$ BEGIN PERFORM id FROM verify_small ORDER BY v <-> '[1,0,0]' LIMIT 3;
  EXCEPTION WHEN index_corrupted THEN RAISE WARNING 'XX002: %', SQLERRM; END $$;
REINDEX INDEX verify_copy;
-- element (1,3): its value's varlena header (offset 72) is not an uncompressed one
SELECT ragstore.debug_write_index_page('verify_copy', 1, 3, 72, '\xffff0000');
SELECT block, item, problem, detail FROM ragstore.verify_index('verify_copy')
  WHERE problem <> 'unreachable element' ORDER BY 1, 2, 3;
DO $$ BEGIN PERFORM id FROM verify_small ORDER BY v <-> '[1,0,0]' LIMIT 3;
  EXCEPTION WHEN index_corrupted THEN RAISE WARNING 'XX002: %', SQLERRM; END $$;
RESET enable_seqscan;
REINDEX INDEX verify_copy;
-- neighbour tuple (1,2): slot 0 (offset 4) = the element itself, slot 1 = (1,250), a freed slot
SELECT ragstore.debug_write_index_page('verify_copy', 1, 2, 4, '\x000001000100');
SELECT ragstore.debug_write_index_page('verify_copy', 1, 2, 10, '\x00000100fa00');
SELECT * FROM ragstore.verify_index('verify_copy') ORDER BY 1, 2, 4;
REINDEX INDEX verify_copy;
-- neighbour tuple (1,2): slot 0 emptied, so the slots after it are never read
SELECT ragstore.debug_write_index_page('verify_copy', 1, 2, 4, '\x000000000000');
SELECT block, item, problem FROM ragstore.verify_index('verify_copy') WHERE problem <> 'unreachable element';
REINDEX INDEX verify_copy;
-- heap TIDs (element offset 4): elements (1,1) and (1,3) = (0,1), a visible row's, element
-- (1,5) = (9,1), beyond the one-page table; with heapallindexed, the rows they held are missing
SELECT ragstore.debug_write_index_page('verify_copy', 1, 1, 4, '\x000000000100');
SELECT ragstore.debug_write_index_page('verify_copy', 1, 3, 4, '\x000000000100');
SELECT ragstore.debug_write_index_page('verify_copy', 1, 5, 4, '\x000009000100');
SELECT block, item, heap_tid, problem FROM ragstore.verify_index('verify_copy') ORDER BY 3;
SELECT problem, count(*) > 0 AS found FROM ragstore.verify_index('verify_copy', true) GROUP BY 1 ORDER BY 1;
REINDEX INDEX verify_copy;
-- heap TID slots (6 bytes each from element offset 4): element (1,1) holds (0,2) in slots 0
-- and 1 (one row twice in an element); element (1,3) has slot 0 empty and (0,3) in slot 1 (a
-- hole: readers stop at the empty slot, so the element returns no row)
SELECT ragstore.debug_write_index_page('verify_copy', 1, 1, 4, '\x000000000200000000000200');
SELECT ragstore.debug_write_index_page('verify_copy', 1, 3, 4, '\x000000000000000000000300');
SELECT block, item, heap_tid, detail FROM ragstore.verify_index('verify_copy')
  WHERE problem = 'element heap TID' ORDER BY 1, 2, 4;
REINDEX INDEX verify_copy;
-- neighbour tuple (1,2): count (offset 2) = 1
SELECT ragstore.debug_write_index_page('verify_copy', 1, 2, 2, '\x0100');
SELECT block, item, problem FROM ragstore.verify_index('verify_copy') WHERE problem <> 'unreachable element';
REINDEX INDEX verify_copy;
-- neighbour tuple (1,2): count = 65535, more slots than the tuple holds: a search that reads
-- the list stops with index_corrupted
SELECT ragstore.debug_write_index_page('verify_copy', 1, 2, 2, '\xffff');
SELECT block, item, problem, detail FROM ragstore.verify_index('verify_copy')
  WHERE problem <> 'unreachable element';
SET enable_seqscan = off;
DO $$ BEGIN PERFORM id FROM verify_small ORDER BY v <-> '[1,0,0]' LIMIT 3;
  EXCEPTION WHEN index_corrupted THEN RAISE WARNING 'XX002: %', SQLERRM; END $$;
RESET enable_seqscan;
REINDEX INDEX verify_copy;
-- meta page: no entry point (entry block at page byte 40 = InvalidBlockNumber): every row is
-- beyond reach of a search
SELECT ragstore.debug_write_index_page('verify_copy', 0, 0, 40, '\xffffffff');
SELECT problem, count(*) FROM ragstore.verify_index('verify_copy') GROUP BY 1 ORDER BY 1;
REINDEX INDEX verify_copy;
-- meta page: magic (page byte 24)
SELECT ragstore.debug_write_index_page('verify_copy', 0, 0, 24, '\x00000000');
SELECT * FROM ragstore.verify_index('verify_copy', true);
DROP INDEX verify_copy;

-- ivfflat: block 1 holds the list tuples, block 2 list 0's only data page
CREATE INDEX verify_copy ON verify_small USING ivfflat (v vector_l2_ops) WITH (lists = 2);
SELECT count(*) AS problems FROM ragstore.verify_index('verify_copy', true);
-- the data page's next link (special space at page byte 8184) = itself
SELECT ragstore.debug_write_index_page('verify_copy', 2, 0, 8184, '\x02000000');
SELECT * FROM ragstore.verify_index('verify_copy', true);
REINDEX INDEX verify_copy;
-- entry 0's heap TID (page byte 24) = invalid
SELECT ragstore.debug_write_index_page('verify_copy', 2, 0, 24, '\x000000000000');
SELECT block, item, problem FROM ragstore.verify_index('verify_copy', true) ORDER BY 1, 2, 3;
REINDEX INDEX verify_copy;
-- list 0's first block (list tuple (1,1), offset 0) = far beyond the relation
SELECT ragstore.debug_write_index_page('verify_copy', 1, 1, 0, '\xffffff7f');
SELECT * FROM ragstore.verify_index('verify_copy') ORDER BY 1, 2;
SELECT problem, count(*) > 0 AS found FROM ragstore.verify_index('verify_copy', true) GROUP BY 1 ORDER BY 1;
REINDEX INDEX verify_copy;
-- data page header: pd_upper (page byte 14) no longer matches the entry count
SELECT ragstore.debug_write_index_page('verify_copy', 2, 0, 14, '\x0010');
SELECT block, item, problem FROM ragstore.verify_index('verify_copy') ORDER BY 1, 2;
REINDEX INDEX verify_copy;
-- meta page: a stored element kind (page byte 40) or metric (byte 42) outside its range is
-- reported by the verifier, and a scan or an insert raises index_corrupted (XX002)
CREATE FUNCTION verify_scan_copy() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL enable_seqscan = off;
  PERFORM id FROM verify_small ORDER BY v <-> '[1,0,0]' LIMIT 1;
  RETURN 'no error';
EXCEPTION WHEN index_corrupted THEN RETURN 'XX002: ' || SQLERRM;
END $$;
SELECT ragstore.debug_write_index_page('verify_copy', 0, 0, 40, '\x0900');
SELECT * FROM ragstore.verify_index('verify_copy');
SELECT verify_scan_copy();
DO $$ BEGIN INSERT INTO verify_small VALUES (31, '[1,2,3]');
  EXCEPTION WHEN index_corrupted THEN RAISE WARNING 'XX002: %', SQLERRM; END $$;
REINDEX INDEX verify_copy;
SELECT ragstore.debug_write_index_page('verify_copy', 0, 0, 42, '\x0400');
SELECT * FROM ragstore.verify_index('verify_copy');
SELECT verify_scan_copy();
REINDEX INDEX verify_copy;
SELECT verify_scan_copy();
DROP INDEX verify_copy;
DROP FUNCTION verify_scan_copy();

RESET ragstore.debug_functions;
DROP VIEW verify_all;
DROP TABLE verify_items, verify_small, verify_empty;
