# hnsw recall@10 on real data against the shipped exact ground truth, for an index built over
# existing rows (in-memory build, written to pages) and for one created on an empty
# table and filled by INSERTs (on-disk insertion path), on sift5k (5,000 x 128, L2) and mnist10k
# (9,000 x 784, L2). Thresholds: the issue's targets (sift5k >= 0.95 at ef_search 100, mnist10k
# >= 0.99 at ef_search 40); the data README's reference HNSW (m=16, ef_construction=64)
# measures sift5k 0.97 at ef_search 100 and mnist10k 0.999 at ef_search 40. A broken graph
# (lost links, wrong neighbour TIDs, a bad entry point) or a broken scan order drops far below.
# Also: recall never falls as ef_search rises, and the build reports progress.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(data_dir read_fvecs read_ivecs vec_literal load_fvecs_table recall_at_k top_ids);

my $node = PostgreSQL::Test::Cluster->new('hnsw_recall');
$node->init;
$node->append_conf('postgresql.conf', "maintenance_work_mem = 256MB\nshared_buffers = 256MB\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

# Top-10 ids for each query at the given ef_search (one psql call for all queries).
sub search {
  my ($table, $queries, $ef) = @_;
  return top_ids($node, 'postgres', $table, $queries, "SET hnsw.ef_search = $ef;");
}

my $dir = data_dir();

# ---- sift5k
my $base = read_fvecs("$dir/sift5k/base.fvecs");
my $queries = read_fvecs("$dir/sift5k/query.fvecs");
my $truth = read_ivecs("$dir/sift5k/groundtruth_l2.ivecs");
load_fvecs_table($node, 'postgres', 'sift', $base);
$node->safe_psql('postgres', 'CREATE INDEX sift_hnsw ON sift USING hnsw (embedding vector_l2_ops)');
like($node->safe_psql('postgres',
  "SET enable_seqscan = off; EXPLAIN SELECT id FROM sift ORDER BY embedding <-> '" . vec_literal($queries->[0]) . "' LIMIT 10"),
  qr/Index Scan using sift_hnsw/, 'planner uses the hnsw index');
my $prev = 0;
for my $ef (10, 40, 100) {
  my $r = recall_at_k(search('sift', $queries, $ef), $truth, 10);
  note sprintf('sift5k build ef_search=%d recall@10=%.4f', $ef, $r);
  cmp_ok($r, '>=', $prev - 0.005, "sift5k build: recall does not fall as ef_search rises ($ef)");
  $prev = $r;
  cmp_ok($r, '>=', 0.95, 'sift5k build: recall@10 >= 0.95 at ef_search 100') if $ef == 100;
}

$node->safe_psql('postgres', 'CREATE TABLE sift_ins (LIKE sift)');
$node->safe_psql('postgres', 'CREATE INDEX sift_ins_hnsw ON sift_ins USING hnsw (embedding vector_l2_ops)');
$node->safe_psql('postgres', 'INSERT INTO sift_ins SELECT * FROM sift ORDER BY id');
my $r = recall_at_k(search('sift_ins', $queries, 100), $truth, 10);
note sprintf('sift5k inserts ef_search=100 recall@10=%.4f', $r);
cmp_ok($r, '>=', 0.95, 'sift5k inserts: recall@10 >= 0.95 at ef_search 100');
# The insert path never strands an element: all 5,000 have a layer-0 in-link and the entry
# point reaches every one (before any VACUUM).
is($node->safe_psql('postgres', "SET ragstore.debug_functions = on;
  SELECT elements, orphans, unreachable FROM ragstore.debug_hnsw_graph('sift_ins_hnsw')"),
  '5000|0|0', 'sift5k inserts: every element reachable from the entry point');

# ---- mnist10k (200 of the 1,000 queries keep the test short)
my $mbase = read_fvecs("$dir/mnist10k/base.fvecs");
my $mq = read_fvecs("$dir/mnist10k/query.fvecs", 200);
my $mtruth = read_ivecs("$dir/mnist10k/groundtruth_l2.ivecs", 200);
load_fvecs_table($node, 'postgres', 'mnist', $mbase);
$node->safe_psql('postgres', 'CREATE INDEX ON mnist USING hnsw (embedding vector_l2_ops)');
$r = recall_at_k(search('mnist', $mq, 40), $mtruth, 10);
note sprintf('mnist10k build ef_search=40 recall@10=%.4f', $r);
cmp_ok($r, '>=', 0.99, 'mnist10k build: recall@10 >= 0.99 at ef_search 40');

# insert path on mnist: an index built on the first 6,000 rows, the last 3,000 inserted (keeps
# the test short; sift5k above fills an index created on an empty table)
$node->safe_psql('postgres', 'CREATE TABLE mnist_ins (LIKE mnist)');
$node->safe_psql('postgres', 'INSERT INTO mnist_ins SELECT * FROM mnist WHERE id < 6000');
$node->safe_psql('postgres', 'CREATE INDEX ON mnist_ins USING hnsw (embedding vector_l2_ops)');
$node->safe_psql('postgres', 'INSERT INTO mnist_ins SELECT * FROM mnist WHERE id >= 6000 ORDER BY id');
$r = recall_at_k(search('mnist_ins', $mq, 40), $mtruth, 10);
note sprintf('mnist10k inserts ef_search=40 recall@10=%.4f', $r);
cmp_ok($r, '>=', 0.99, 'mnist10k inserts: recall@10 >= 0.99 at ef_search 40');

# ---- a graph that outgrows maintenance_work_mem: NOTICE, then on-disk inserts; still good
my ($ret, $out, $err) = $node->psql('postgres',
  "SET maintenance_work_mem = '1MB'; CREATE INDEX sift_small_mem ON sift USING hnsw (embedding vector_l2_ops)");
is($ret, 0, 'build with a small maintenance_work_mem succeeds');
like($err, qr/hnsw graph no longer fits into maintenance_work_mem after \d+ tuples/, 'NOTICE when the graph no longer fits');
$node->safe_psql('postgres', 'DROP INDEX sift_hnsw');
$r = recall_at_k(search('sift', $queries, 100), $truth, 10);
note sprintf('sift5k fallback build ef_search=100 recall@10=%.4f', $r);
cmp_ok($r, '>=', 0.95, 'sift5k build past maintenance_work_mem: recall@10 >= 0.95');

$node->stop;
done_testing();
