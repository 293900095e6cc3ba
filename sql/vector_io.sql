-- vector: text and binary input/output, typmod.
-- pg_temp.try(sql) runs one statement and returns its result, or 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE sql INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- valid text input: whitespace variants, strtof forms
SELECT input, pg_temp.try(format('SELECT %L::vector::text', input)) AS result
  FROM (VALUES ('[1,2,3]'), (' [ 1,  2 ,    3  ] '),
               ('[1.,1e-3,1.5e+38,-0.5,+2,-0]'), ('[1.23456789]'),
               ('[0x1p3]'),          -- hexadecimal, as strtof
               ('[1e-50]'),          -- underflows to 0, as pgvector
               ('[3.4028235e38,-3.4028235e38,1.4e-45,1.17549435e-38]'),
               ('[0.3,0.6,100,1000000,10000000000000000]')) t(input);

-- tabs, newlines and carriage returns are whitespace too
SELECT E'\t[\n1,\r2\t]\n'::vector;

-- text output: the shortest decimal that reads back to the same float4
SELECT '[1e-7,123456789,0.1]'::vector;
-- the output is valid JSON (clients JSON.parse it)
SELECT '[1e-7,123456789,0.1,-0.5,3.4028235e38,1.4e-45]'::vector::text::json;
SELECT json_array_length('[1e-7,123456789,0.1]'::vector::text::json);
SELECT count(*) AS json_ok FROM (
  SELECT (('[' || (random() * 1e-3)::real || ',' || (random() * 1e30)::real || ',' ||
           (-random())::real || ']')::vector)::text::json AS j FROM generate_series(1, 200)) t;
-- and reads back to the same value, bit for bit
SELECT bool_and(v::text::vector = v AND vector_send(v::text::vector) = vector_send(v)) AS round_trip
  FROM (SELECT ARRAY[(random() * 1e-3)::real, (random() * 1e6)::real, (-random())::real,
                     (random() * 1e-40)::real]::vector AS v
          FROM generate_series(1, 500)) t;

-- invalid text input
SELECT input, pg_temp.try(format('SELECT %L::vector::text', input)) AS result
  FROM (VALUES ('[NaN,1]'), ('[nan]'), ('[Infinity,1]'), ('[-Infinity,1]'), ('[inf]'),
               ('[4e38,1]'), ('[1,-4e38]'), ('[1,2,3]x'), ('[1,2,3] ]'), ('[1,2,3],'),
               ('1,2,3'), ('[1,2,3'), ('1,2,3]'), ('(1,2,3)'), ('[]'), ('[  ]'), ('[1,,3]'),
               ('[1,2,]'), ('[,1]'), ('[1 2]'), ('[1,a]'), ('[1;2]'), (''), ('   '), ('['),
               ('[1]]')) t(input);
-- a few messages with their details
\set VERBOSITY default
SELECT '1,2,3'::vector;
SELECT '[1,2,3]x'::vector;
SELECT '[4e38,1]'::vector;

-- dimensions: 16000 is the maximum
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::vector);
SELECT pg_temp.try(format('SELECT %L::vector::text',
                          '[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']'));

-- typmod
SELECT input, pg_temp.try(format('SELECT %s::text', input)) AS result
  FROM (VALUES ($$'[1,2,3]'::vector(3)$$), ($$'[1,2]'::vector(3)$$),
               ($$'[1,2,3,4]'::vector(3)$$), ($$'[1,2,3]'::vector::vector(2)$$),
               ($$'[1,2,3]'::vector(16000)$$), ($$'[1,2,3]'::vector(16001)$$),
               ($$'[1,2,3]'::vector(0)$$), ($$'[1,2,3]'::vector(-1)$$),
               ($$'[1,2,3]'::vector(3, 2)$$)) t(input);
CREATE TABLE vector_typmod (v vector(3));
INSERT INTO vector_typmod VALUES ('[1,2,3]');
INSERT INTO vector_typmod VALUES ('[1,2]');
INSERT INTO vector_typmod VALUES ('[1,2,3,4]');
INSERT INTO vector_typmod VALUES ('[4,5]'::vector);   -- through the typmod cast
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'vector_typmod'::regclass AND attname = 'v';
SELECT * FROM vector_typmod;
DROP TABLE vector_typmod;

-- binary send: int16 dim, int16 unused, dim float4, network byte order
SELECT vector_send('[1,2,3]');
SELECT vector_send('[-0.5,1e-7]');

-- binary recv, reached through binary COPY: a bytea column written with COPY (FORMAT binary)
-- is a file whose field holds exactly the bytea's bytes; reading that file into a vector
-- column hands those bytes to vector_recv.
CREATE TABLE vector_recv (v vector);
CREATE TABLE vector_recv3 (v vector(3));
CREATE FUNCTION pg_temp.recv(payload bytea, tab text DEFAULT 'vector_recv') RETURNS text
  LANGUAGE plpgsql AS $$
DECLARE
  path text := '/tmp/ragstore_regress_vector_recv_' || pg_backend_pid() || '.bin';
  r text;
BEGIN
  EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', payload, path);
  EXECUTE format('TRUNCATE %I', tab);
  EXECUTE format('COPY %I FROM %L (FORMAT binary)', tab, path);
  EXECUTE format('SELECT v::text FROM %I', tab) INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT payload, pg_temp.recv(payload::bytea) AS result
  FROM (VALUES ('\x000300003f8000004000000040400000'),   -- [1,2,3]
               ('\x0001000080000000'),                   -- [-0]
               ('\x000300013f8000004000000040400000'),   -- unused = 1
               ('\x0003ffff3f8000004000000040400000'),   -- unused = -1
               ('\x0003'),                               -- truncated header
               ('\x00000000'),                           -- 0 dimensions
               ('\xffff0000'),                           -- -1 dimensions
               ('\x3e810000'),                           -- 16001 dimensions
               ('\x000200003f8000007fc00000'),           -- NaN
               ('\x000200003f8000007f800000'),           -- Infinity
               ('\x00020000ff8000003f800000'),           -- -Infinity
               ('\x000300003f80000040000000'),           -- fewer values than dim
               ('\x000100003f80000040000000')            -- trailing bytes
       ) t(payload);
SELECT pg_temp.recv('\x000300003f8000004000000040400000', 'vector_recv3') AS typmod_ok,
       pg_temp.recv('\x000200003f80000040000000', 'vector_recv3') AS typmod_mismatch;

-- binary COPY round trip, through a file and through a program
CREATE TABLE vector_copy (id int, v vector);
INSERT INTO vector_copy
  SELECT i, ARRAY[i, -i * 0.1, 1.0 / i, random()]::real[]::vector FROM generate_series(1, 100) i;
INSERT INTO vector_copy VALUES (101, NULL),
  (102, ('[' || array_to_string(array_fill(0.25, ARRAY[16000]), ',') || ']')::vector);
-- (file names carry the backend's pid: several checkouts may run this test at once)
SELECT '/tmp/ragstore_regress_vector_copy_' || pg_backend_pid() AS copyfile \gset
COPY vector_copy TO :'copyfile' (FORMAT binary);
CREATE TABLE vector_copy2 (LIKE vector_copy);
COPY vector_copy2 FROM :'copyfile' (FORMAT binary);
SELECT count(*) AS rows, count(a.v) AS non_null,
       bool_and(a.v IS NOT DISTINCT FROM b.v) AS all_equal,
       bool_and(vector_send(a.v) IS NOT DISTINCT FROM vector_send(b.v)) AS same_bytes
  FROM vector_copy a FULL JOIN vector_copy2 b USING (id);
TRUNCATE vector_copy2;
SELECT 'cat > ' || :'copyfile' || '.2' AS copyto, 'cat ' || :'copyfile' || '.2' AS copyfrom \gset
COPY vector_copy TO PROGRAM :'copyto' (FORMAT binary);
COPY vector_copy2 FROM PROGRAM :'copyfrom' (FORMAT binary);
SELECT count(*) AS rows, bool_and(a.v IS NOT DISTINCT FROM b.v) AS all_equal
  FROM vector_copy a FULL JOIN vector_copy2 b USING (id);
-- and the text COPY round trip
TRUNCATE vector_copy2;
COPY vector_copy TO :'copyfile';
COPY vector_copy2 FROM :'copyfile';
SELECT count(*) AS rows, bool_and(a.v IS NOT DISTINCT FROM b.v) AS all_equal
  FROM vector_copy a FULL JOIN vector_copy2 b USING (id);
SELECT 'rm -f ' || :'copyfile' || ' ' || :'copyfile' || '.2 /tmp/ragstore_regress_vector_recv_'
       || pg_backend_pid() || '.bin' AS cleanup \gset
COPY (SELECT 1 WHERE false) TO PROGRAM :'cleanup';
DROP TABLE vector_copy, vector_copy2, vector_recv, vector_recv3;
