# hnsw keeps up to 10 heap rows of one value in one graph element (as pgvector): identical
# vectors do not crowd the graph, and a search that reaches the element returns all its rows,
# so `hnsw.ef_search = 1` returns 10 of 20 identical rows (pgvector's observable behaviour).
# Checked on every path that creates elements: the in-memory build (serial and with threads),
# a build that outgrows maintenance_work_mem (rows after that point join elements through the
# insert path), INSERTs, and 5 pgbench clients inserting the same value at once; then DELETE +
# VACUUM (an element loses dead rows, and goes only when all its rows are dead) and the format
# version check. Every part ends with ragstore.verify_index (heapallindexed) finding nothing.
#
# The tables are small and use m = 100 (200 layer-0 slots): with at most 201 elements every
# layer-0 list holds every other element, so a search with ef_search = 1 always reaches an
# element of the queried value, and the counts below are exact, not probable.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(verify_clean);

my $node = PostgreSQL::Test::Cluster->new('hnsw_duplicates');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\nmax_connections = 30\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

my $dup = '[0.25,0.5,0.75]';
my $with = 'WITH (m = 100, ef_construction = 200)';

# Rows returned through the index for ORDER BY v <-> $q with the given settings.
sub via_index {
  my ($table, $q, $settings, $limit) = @_;
  $limit //= 50;
  return $node->safe_psql('postgres', "SET enable_seqscan = off; SET enable_bitmapscan = off; $settings
    SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM $table ORDER BY v <-> '$q' LIMIT $limit) s");
}
sub elements {
  my ($index) = @_;
  return $node->safe_psql('postgres',
    "SET ragstore.debug_functions = on; SELECT elements, unreachable FROM ragstore.debug_hnsw_graph('$index')");
}

# A table of $others random rows and $n rows of the duplicated value (ids from 1001 on; the
# first $early of them before the others in heap order, the rest after).
sub fill {
  my ($table, $dims, $others, $n, $early) = @_;
  my $dv = $dims == 3 ? "'$dup'::vector" : "(SELECT array_agg(0.5::real) FROM generate_series(1, $dims))::vector";
  $node->safe_psql('postgres', "CREATE TABLE $table (id int, v vector($dims));
    INSERT INTO $table SELECT 1000 + i, $dv FROM generate_series(1, $early) i;
    INSERT INTO $table SELECT i, (SELECT array_agg(random()) FROM generate_series(1, $dims) WHERE i > 0)::vector
      FROM generate_series(1, $others) i;
    INSERT INTO $table SELECT 1000 + i, $dv FROM generate_series($early + 1, $n) i;");
}

# ---- 1. in-memory build, one thread: 20 identical rows (2 elements of 10) and 150 others
fill('t_serial', 3, 150, 20, 20);
$node->safe_psql('postgres', "SET max_parallel_maintenance_workers = 0;
  CREATE INDEX t_serial_idx ON t_serial USING hnsw (v vector_l2_ops) $with");
is(elements('t_serial_idx'), '152|0', 'serial build: 150 + 2 elements, all reachable');
is(via_index('t_serial', $dup, 'SET hnsw.ef_search = 1;'), '10|10', 'serial build: ef_search 1 returns 10 rows');
is(via_index('t_serial', $dup, 'SET hnsw.ef_search = 1; SET hnsw.iterative_scan = relaxed_order;', 20), '20|20',
   'serial build: relaxed iterative scan returns all 20 identical rows');
is(via_index('t_serial', $dup, 'SET hnsw.ef_search = 1; SET hnsw.iterative_scan = strict_order;', 20), '20|20',
   'serial build: strict iterative scan returns all 20 identical rows');
is(via_index('t_serial', $dup, 'SET hnsw.iterative_scan = relaxed_order; SET hnsw.max_scan_tuples = 1000000;', 1000), '170|170',
   'serial build: an iterative scan enumerates every row once');
is($node->safe_psql('postgres', "SET enable_seqscan = off;
  SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM t_serial ORDER BY v <-> (SELECT NULL::vector)) s"),
   '170|170', 'serial build: a NULL query returns every row once');
# With ef_search above the element count the search is exhaustive: the index's top 30 (the 20
# identical rows, then the 10 nearest others) are a sequential scan's.
my $exact = "SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (SELECT id, v <-> '$dup' AS d FROM t_serial ORDER BY v <-> '$dup' LIMIT 30) s";
is($node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.ef_search = 1000; $exact"),
   $node->safe_psql('postgres', "SET enable_indexscan = off; $exact"), 'serial build: top 30 equal a sequential scan');
verify_clean($node, 'postgres', 'serial build');

# ---- 1b. heavy duplication at the default m = 16: 1,000 rows of one value make 100 elements of
# equal value, more than a layer-0 list holds (32), all at distance 0 from each other, so their
# lists can fill with each other and leave the group without a link out (what the build's
# reachability pass is for): every element is still reachable, and an iterative scan
# enumerates every row once
$node->safe_psql('postgres', "CREATE TABLE t_heavy (id int, v vector(3));
  INSERT INTO t_heavy SELECT i, ARRAY[random(), random(), random()]::vector FROM generate_series(1, 300) i;
  INSERT INTO t_heavy SELECT 1000 + i, '$dup' FROM generate_series(1, 1000) i;
  CREATE INDEX t_heavy_idx ON t_heavy USING hnsw (v vector_l2_ops)");
is(elements('t_heavy_idx'), '400|0', 'heavy duplication: 300 + 100 elements, all reachable');
is(via_index('t_heavy', '[0.9,0.1,0.1]', 'SET hnsw.iterative_scan = relaxed_order; SET hnsw.max_scan_tuples = 1000000;', 5000),
   '1300|1300', 'heavy duplication: an iterative scan enumerates every row once');
$node->safe_psql('postgres', "INSERT INTO t_heavy SELECT 3000 + i, '$dup' FROM generate_series(1, 95) i");
is(elements('t_heavy_idx') =~ /\|0$/ ? 1 : 0, 1, 'heavy duplication: inserts keep every element reachable');
verify_clean($node, 'postgres', 'heavy duplication');

# ---- 2. in-memory build on threads (2 parallel workers' worth)
fill('t_par', 3, 150, 25, 12);
my ($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug1;
  SET maintenance_work_mem = '128MB'; SET max_parallel_maintenance_workers = 2; SET min_parallel_table_scan_size = 0;
  SET ragstore.max_threads = 3;
  CREATE INDEX t_par_idx ON t_par USING hnsw (v vector_l2_ops) $with");
is($ret, 0, 'parallel build succeeds') or diag($err);
like($err, qr/using 2 parallel workers/, 'parallel build: 2 workers');
is(elements('t_par_idx'), '153|0', 'parallel build: 25 identical rows make 3 elements');
is(via_index('t_par', $dup, 'SET hnsw.ef_search = 1;'), '10|10', 'parallel build: ef_search 1 returns 10 rows');
is(via_index('t_par', $dup, 'SET hnsw.ef_search = 3; SET hnsw.iterative_scan = relaxed_order;', 25), '25|25',
   'parallel build: all 25 identical rows');
verify_clean($node, 'postgres', 'parallel build');

# ---- 3. a build that outgrows maintenance_work_mem (1 MB holds about 110 rows of vector(2000)):
# 5 identical rows in memory, 15 after the NOTICE, which join the first element and fill a second
fill('t_spill', 2000, 150, 20, 5);
($ret, $out, $err) = $node->psql('postgres', "SET maintenance_work_mem = '1MB'; SET max_parallel_maintenance_workers = 0;
  CREATE INDEX t_spill_idx ON t_spill USING hnsw (v vector_l2_ops) $with");
is($ret, 0, 'spilling build succeeds') or diag($err);
like($err, qr/no longer fits into maintenance_work_mem after (\d+) tuples/, 'spilling build: the NOTICE');
my ($spill_at) = $err =~ /after (\d+) tuples/;
cmp_ok($spill_at // 0, '>', 5, 'spilling build: the first identical rows were built in memory');
cmp_ok($spill_at // 1e9, '<', 155, 'spilling build: the last identical rows were inserted after the NOTICE');
my $dup2000 = '[' . join(',', ('0.5') x 2000) . ']';
is(elements('t_spill_idx'), '152|0', 'spilling build: 20 identical rows make 2 elements');
is(via_index('t_spill', $dup2000, 'SET hnsw.ef_search = 1;'), '10|10', 'spilling build: ef_search 1 returns 10 rows');
verify_clean($node, 'postgres', 'spilling build');

# ---- 4. INSERTs into an index (others and identical rows interleaved)
$node->safe_psql('postgres', "CREATE TABLE t_ins (id int, v vector(3));
  CREATE INDEX t_ins_idx ON t_ins USING hnsw (v vector_l2_ops) $with");
for my $round (1 .. 10) {
  $node->safe_psql('postgres', "INSERT INTO t_ins SELECT i, ARRAY[random(), random(), random()]::vector
      FROM generate_series($round * 15 - 14, $round * 15) i;
    INSERT INTO t_ins VALUES (1000 + 2 * $round - 1, '$dup'), (1000 + 2 * $round, '$dup');");
}
is(elements('t_ins_idx'), '152|0', 'inserts: 20 identical rows make 2 elements');
is(via_index('t_ins', $dup, 'SET hnsw.ef_search = 1;'), '10|10', 'inserts: ef_search 1 returns 10 rows');
verify_clean($node, 'postgres', 'inserts');

# ---- 5. five clients inserting the same value at once: inserts of one value take turns (a
# lock per value hash), so 200 rows fill exactly 20 elements
$node->safe_psql('postgres', "CREATE TABLE t_conc (id serial, v vector(3));
  INSERT INTO t_conc (v) SELECT ARRAY[random(), random(), random()]::vector FROM generate_series(1, 150);
  CREATE INDEX t_conc_idx ON t_conc USING hnsw (v vector_l2_ops) $with");
$node->pgbench('--no-vacuum --client=5 --transactions=40', 0, [qr{actually processed: 200/200}], [qr{^$}],
  '5 clients insert the same value', { '026_dup_insert' => "INSERT INTO t_conc (v) VALUES ('$dup');" });
is(elements('t_conc_idx'), '170|0', 'concurrent inserts: 200 identical rows make 20 elements');
is(via_index('t_conc', $dup, 'SET hnsw.ef_search = 1;'), '10|10', 'concurrent inserts: ef_search 1 returns 10 rows');
is(via_index('t_conc', $dup, 'SET hnsw.ef_search = 1; SET hnsw.iterative_scan = relaxed_order; SET hnsw.max_scan_tuples = 1000000;', 1000),
   '350|350', 'concurrent inserts: every row once');
verify_clean($node, 'postgres', 'concurrent inserts');

# ---- 6. DELETE + VACUUM: the first element's 10 rows all die (it goes), 3 of the second's
$node->safe_psql('postgres', 'DELETE FROM t_serial WHERE id BETWEEN 1001 AND 1013; VACUUM t_serial');
is(elements('t_serial_idx'), '151|0', 'VACUUM: the element whose rows all died is gone, the other stays');
is(via_index('t_serial', $dup, 'SET hnsw.ef_search = 1;'), '7|7', 'VACUUM: the 7 live identical rows are returned');
is($node->safe_psql('postgres', "SET enable_seqscan = off;
  SELECT count(*) FILTER (WHERE id BETWEEN 1001 AND 1013) FROM (SELECT id FROM t_serial ORDER BY v <-> (SELECT NULL::vector)) s"),
   '0', 'VACUUM: no deleted row returned by a NULL query');
is(via_index('t_serial', $dup, 'SET hnsw.iterative_scan = relaxed_order; SET hnsw.max_scan_tuples = 1000000;', 1000), '157|157',
   'VACUUM: an iterative scan enumerates the 157 live rows once');
# new identical rows fill the element's freed room before any new element is made
$node->safe_psql('postgres', "INSERT INTO t_serial SELECT 2000 + i, '$dup' FROM generate_series(1, 4) i");
is(elements('t_serial_idx'), '152|0', 'inserts after VACUUM: 3 rows fill the element, the 4th starts a new one');
is(via_index('t_serial', $dup, 'SET hnsw.ef_search = 1; SET hnsw.iterative_scan = relaxed_order;', 11), '11|11',
   'inserts after VACUUM: all 11 identical rows');
verify_clean($node, 'postgres', 'DELETE + VACUUM');

# ---- 7. the other element types (their values are grouped and stored differently: halfvec
# through floats, bit strings at one stride, sparse vectors by offset), built and inserted
for my $t (['halfvec(3)', 'halfvec_l2_ops', "'$dup'", "ARRAY[random(), random(), random()]::halfvec(3)"],
           ['sparsevec(3)', 'sparsevec_cosine_ops', "'{1:0.25,3:0.75}/3'", "ARRAY[random(), random(), random()]::vector::sparsevec"],
           ['bit(64)', 'bit_hamming_ops', "B'" . ('10' x 32) . "'",
            "(SELECT string_agg(CASE WHEN random() < 0.5 THEN '1' ELSE '0' END, '') FROM generate_series(1, 64) WHERE i > 0)::bit(64)"]) {
  my ($type, $ops, $dv, $rand) = @$t;
  (my $name = "t_$type") =~ s/\W/_/g;
  my $op = $ops =~ /hamming/ ? '<~>' : $ops =~ /cosine/ ? '<=>' : '<->';
  $node->safe_psql('postgres', "CREATE TABLE $name (id int, v $type);
    INSERT INTO $name SELECT 1000 + i, $dv FROM generate_series(1, 8) i;
    INSERT INTO $name SELECT i, $rand FROM generate_series(1, 150) i;
    INSERT INTO $name SELECT 1000 + i, $dv FROM generate_series(9, 20) i;
    CREATE INDEX ${name}_idx ON $name USING hnsw (v $ops) $with;
    INSERT INTO $name SELECT 2000 + i, $dv FROM generate_series(1, 10) i;");
  # 30 rows make 3 full elements: a search that stops at the first element it reaches returns 10
  # rows whichever it reaches (a partly filled element would make the count depend on the graph)
  is(elements("${name}_idx"), '153|0', "$type: 30 identical rows (20 built, 10 inserted) make 3 elements");
  my $q = "SET enable_seqscan = off; SET enable_bitmapscan = off;
    SELECT count(*) FROM (SELECT id FROM $name ORDER BY v $op $dv LIMIT 50) s";
  is($node->safe_psql('postgres', "SET hnsw.ef_search = 1; $q"), '10', "$type: ef_search 1 returns 10 rows");
  # distances (bit distances tie, so the rows at the 40th distance may differ), and the rows at 0
  my $top = "SELECT string_agg(d::text, ',' ORDER BY d), string_agg(id::text, ',' ORDER BY id) FILTER (WHERE d = 0)
    FROM (SELECT id, v $op $dv AS d FROM $name ORDER BY v $op $dv LIMIT 40) s";
  is($node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.ef_search = 1000; $top"),
     $node->safe_psql('postgres', "SET enable_indexscan = off; $top"), "$type: top 40 equal a sequential scan");
}
verify_clean($node, 'postgres', 'other element types');

# ---- 8. an index in the previous format (version 1, page byte 28 of the meta page) is refused
# with a clear error naming REINDEX, and REINDEX makes it usable again
$node->safe_psql('postgres', "SET ragstore.debug_functions = on;
  SELECT ragstore.debug_write_index_page('t_ins_idx', 0, 0, 28, '\\x01000000')");
($ret, $out, $err) = $node->psql('postgres', "SET enable_seqscan = off; SELECT id FROM t_ins ORDER BY v <-> '$dup' LIMIT 1");
isnt($ret, 0, 'an index of the previous format is refused');
like($err, qr/REINDEX/, 'the error names REINDEX');
($ret, $out, $err) = $node->psql('postgres', "INSERT INTO t_ins VALUES (5000, '$dup')");
like($err, qr/REINDEX/, 'an insert into it gets the same error');
$node->safe_psql('postgres', 'REINDEX INDEX t_ins_idx');
is(via_index('t_ins', $dup, 'SET hnsw.ef_search = 1;'), '10|10', 'after REINDEX: ef_search 1 returns 10 rows');
verify_clean($node, 'postgres', 'after REINDEX');

unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC/, 'no backend crashed');
$node->stop;
done_testing();
