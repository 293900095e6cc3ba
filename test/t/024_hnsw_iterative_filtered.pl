# hnsw iterative scans under a selective filter: the scan keeps returning rows until the
# executor stops asking or its budget (hnsw.max_scan_tuples elements visited, work_mem *
# hnsw.scan_mem_multiplier bytes) is spent, and then returns every row it visited that it had
# not returned yet; it never ends because its queue ran dry while the graph had more.
#
# Figures and thresholds are pgvector 0.8's (its test/t iterative-scan tests, same shapes, our
# own data and queries): 100,000 random 3-d rows, `WHERE i % 10000 = 0 ... LIMIT 11`:
#   - max_scan_tuples 100,000 (all of the index) returns all 10 matching rows;
#   - max_scan_tuples 30,000 / 50,000 / 70,000 returns on average 3 / 5 / 7 rows (10 queries each),
#     within +-2 (pgvector's bounds): the scan visits about that share of the table, no more
#     (ignoring the budget would return 10) and no less (stopping early returns fewer);
#   - a scan that reaches work_mem * hnsw.scan_mem_multiplier stops, with pgvector's DEBUG1
#     message (our visited set and heaps take less memory per tuple than pgvector's, so the
#     test uses work_mem 64kB where pgvector's uses 1MB).
# 50,000 random 3-d rows, a filter keeping 1 row in 500, LIMIT 20, ef_search 40: recall of the
# filtered top 20 against the exact filtered top 20 >= 0.99 (pgvector's figure) for L2 and
# cosine, strict_order and relaxed_order.
# Without the drain of the visited-but-not-returned elements once the budget is spent, a scan
# with max_scan_tuples 1 returns only the ef_search rows of its first batch (checked below).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hnsw_iterative');
$node->init;
$node->append_conf('postgresql.conf', "maintenance_work_mem = 128MB\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

$node->safe_psql('postgres', q{
  SELECT setseed(0.24);
  CREATE TABLE big (i int4 PRIMARY KEY, v vector(3));
  INSERT INTO big SELECT i, ARRAY[random(), random(), random()] FROM generate_series(1, 100000) i;
  CREATE INDEX big_v ON big USING hnsw (v vector_l2_ops);
});

my $settings = 'SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order; '
  . 'SET hnsw.scan_mem_multiplier = 2;';
like($node->safe_psql('postgres', "$settings EXPLAIN (COSTS OFF) SELECT i FROM big WHERE i % 10000 = 0 "
    . "ORDER BY v <-> (SELECT v FROM big WHERE i = 1) LIMIT 11"),
  qr/Index Scan using big_v/, 'the filtered query uses the hnsw index');

# Filter-passing rows returned for query row q with a budget of $max visited elements.
sub filtered_count {
  my ($max, $q) = @_;
  return $node->safe_psql('postgres', "$settings SET hnsw.max_scan_tuples = $max;
    SELECT count(*) FROM (SELECT i FROM big WHERE i % 10000 = 0
      ORDER BY v <-> (SELECT v FROM big WHERE i = $q) LIMIT 11) t");
}

is(filtered_count(100000, 1), '10', 'max_scan_tuples 100000: all 10 filter-passing rows');

for my $max (30000, 50000, 70000) {
  my $sum = 0;
  $sum += filtered_count($max, $_) for 1 .. 10;
  my $avg = $sum / 10;
  my $expected = $max / 10000;
  note sprintf('max_scan_tuples %d: %.2f rows on average (expected about %d)', $max, $avg, $expected);
  cmp_ok($avg, '>', $expected - 2, "max_scan_tuples $max: at least about $expected rows");
  cmp_ok($avg, '<', $expected + 2, "max_scan_tuples $max: the scan stays within its budget");
}

# Budget spent at once: every element the first search visited is still returned (distance
# order), not only its ef_search nearest.
my $drained = $node->safe_psql('postgres', "$settings SET hnsw.ef_search = 10; SET hnsw.max_scan_tuples = 1;
  SELECT count(*) FROM (SELECT i FROM big ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 100000) t");
note "max_scan_tuples 1, ef_search 10: $drained rows";
cmp_ok($drained, '>', 20, 'a spent budget still returns every visited element');
cmp_ok($drained, '<', 5000, 'a spent budget ends the search');

# Memory: at work_mem 64kB the scan stops at its memory limit long before 100,000 tuples, says
# so at DEBUG1 (pgvector's message), and still returns what it visited.
my ($ret, $stdout, $stderr) = $node->psql('postgres', "SET enable_seqscan = off;
  SET hnsw.iterative_scan = relaxed_order; SET hnsw.max_scan_tuples = 100000; SET work_mem = '64kB';
  SET client_min_messages = debug1;
  SELECT count(*) FROM (SELECT i FROM big WHERE i % 10000 = 0
    ORDER BY v <-> (SELECT v FROM big WHERE i = 1) LIMIT 11) t");
like($stderr, qr/hnsw index scan reached memory limit after \d+ tuples/,
  'work_mem 64kB: the scan stops at its memory limit and says so');
cmp_ok($stdout, '<', 10, 'work_mem 64kB: fewer rows than an unlimited scan');

# ---- recall of the filtered top 20 (1 row in 500 passes)
$node->safe_psql('postgres', q{
  SELECT setseed(0.5);
  CREATE TABLE f (i int4 PRIMARY KEY, v vector(3));
  INSERT INTO f SELECT i, ARRAY[random(), random(), random()] FROM generate_series(1, 50000) i;
  CREATE TABLE fq (q int, v vector(3));
  INSERT INTO fq SELECT q, ARRAY[random(), random(), random()] FROM generate_series(1, 20) q;
  CREATE INDEX f_l2 ON f USING hnsw (v vector_l2_ops);
  CREATE INDEX f_cos ON f USING hnsw (v vector_cosine_ops);
});
for my $op ('<->', '<=>') {
  my $exact = $node->safe_psql('postgres', "SET enable_indexscan = off; SET enable_bitmapscan = off;
    SELECT q, string_agg(i::text, ',' ORDER BY i) FROM fq, LATERAL
      (SELECT i FROM f WHERE i % 500 = 0 ORDER BY f.v $op fq.v LIMIT 20) s GROUP BY q ORDER BY q");
  my %truth = map { my ($q, $ids) = split /\|/; ($q => { map { $_ => 1 } split /,/, $ids }) } split /\n/, $exact;
  for my $mode ('strict_order', 'relaxed_order') {
    # one query at a time through the index (a LATERAL join would rescan it)
    my $sql = "SET enable_seqscan = off; SET hnsw.ef_search = 40; SET hnsw.iterative_scan = $mode;\n";
    $sql .= "SELECT $_, coalesce(string_agg(i::text, ','), '') FROM (SELECT i FROM f WHERE i % 500 = 0 "
      . "ORDER BY v $op (SELECT v FROM fq WHERE q = $_) LIMIT 20) s;\n" for 1 .. 20;
    my ($hits, $total) = (0, 0);
    for my $line (split /\n/, $node->safe_psql('postgres', $sql)) {
      my ($q, $ids) = split /\|/, $line;
      $hits += grep { $truth{$q}{$_} } split /,/, $ids;
      $total += 20;
    }
    my $recall = $hits / $total;
    note sprintf('filtered 1/500, %s %s: recall@20 %.4f', $op, $mode, $recall);
    cmp_ok($recall, '>=', 0.99, "filtered 1/500, $op $mode: recall >= 0.99");
  }
}
like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT i FROM f WHERE i % 500 = 0 "
    . "ORDER BY v <=> '[1,2,3]' LIMIT 20"), qr/Index Scan using f_cos/, 'cosine filtered query uses its index');

$node->stop;
done_testing();
