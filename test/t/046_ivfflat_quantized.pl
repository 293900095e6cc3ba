# Quantized ivfflat (WITH (quantizer = 'sq8' | 'binary')) on real data: recall@10 per quantizer
# through the build path, the insert path and after DELETE + VACUUM, against the unquantized
# index at the same probes; a streaming replica returning the primary's ids in order; crash
# recovery of inserts into quantized lists; ragstore.estimate_recall on quantized indexes.
#
# Data: ada002 (255 x 1,536 OpenAI embeddings, cosine, self-queries: row i's nearest neighbour
# is i) and mnist10k (9,000 x 784, L2, first 200 queries).
# Re-ranking (ivfflat.rerank_candidates, default 100) returns rows in exact distance order from
# the table's vectors, so with sq8 (exact order of every probed row through a proven lower
# bound) the top 10 is the unquantized index's at the same probes: recall must match it to
# within ties. binary re-ranks the 100 best rows by code distance: its recall may fall
# below the unquantized index's only where the true neighbours are not among those 100.
# Thresholds, from measured values with a margin (recorded next to each):
#   ada002, lists 16: probes 16 (every list) 1.000 for none and sq8 (exact), binary >= 0.95
#   (measured 1.000); probes 4: sq8 = none, binary >= none - 0.05.
#   mnist10k, lists 50: probes 8: sq8 = none, binary >= none - 0.05.
# ragstore-tap: long
# ragstore-tap: not-asan
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use RagstoreTest qw(data_dir read_fvecs read_ivecs vec_literal load_fvecs_table recall_at_k top_ids top_dists verify_clean
  replica_same_ids);

my $dir = data_dir();
my $node = PostgreSQL::Test::Cluster->new('ivf_quantized');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', "maintenance_work_mem = 256MB\nshared_buffers = 128MB\nsynchronous_commit = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

sub search {
  my ($table, $queries, $probes, $op) = @_;
  return top_ids($node, 'postgres', $table, $queries, "SET ivfflat.probes = $probes;", $op);
}

# Exact top-10 ids of each query on the table's current rows (sequential scan).
sub exact_ids {
  my ($table, $queries, $op) = @_;
  return top_ids($node, 'postgres', $table, $queries, 'SET enable_seqscan = on; SET enable_indexscan = off;', $op);
}

sub index_size {
  my ($name) = @_;
  return $node->safe_psql('postgres', "SELECT pg_relation_size('$name')");
}

# ---- ada002, build path: one table per quantizer (the planner would pick one of several indexes)
my $ada = read_fvecs("$dir/ada002/base.fvecs");
my $ada_truth = read_ivecs("$dir/ada002/groundtruth_cosine_selfquery.ivecs");
load_fvecs_table($node, 'postgres', 'ada_none', $ada);
my %size;
for my $q ('sq8', 'binary') {
  $node->safe_psql('postgres', "CREATE TABLE ada_$q AS SELECT * FROM ada_none");
}
for my $q ('none', 'sq8', 'binary') {
  $node->safe_psql('postgres',
    "CREATE INDEX ada_${q}_idx ON ada_$q USING ivfflat (embedding vector_cosine_ops) WITH (lists = 16, quantizer = '$q')");
  $size{$q} = index_size("ada_${q}_idx");
}
like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN SELECT id FROM ada_sq8 ORDER BY embedding <=> '"
  . vec_literal($ada->[0]) . "' LIMIT 10"), qr/Index Scan using ada_sq8_idx/, 'the planner uses the quantized index');
note sprintf('ada002 index sizes: none %d, sq8 %d (%.2fx), binary %d (%.2fx) bytes',
  $size{none}, $size{sq8}, $size{sq8} / $size{none}, $size{binary}, $size{binary} / $size{none});
cmp_ok($size{sq8}, '<', 0.5 * $size{none}, 'sq8 index is under half the unquantized size');
cmp_ok($size{binary}, '<', $size{sq8}, 'binary index is smaller than sq8');
my %r;
for my $probes (4, 16) {
  for my $q ('none', 'sq8', 'binary') {
    $r{$q}{$probes} = recall_at_k(search("ada_$q", $ada, $probes, '<=>'), $ada_truth, 10);
    note sprintf('ada002 build lists=16 probes=%d quantizer=%s recall@10=%.3f', $probes, $q, $r{$q}{$probes});
  }
}
is($r{none}{16}, 1, 'ada002: unquantized, every list: exact');
is($r{sq8}{16}, 1, 'ada002: sq8, every list: exact (re-ranked)');
cmp_ok($r{binary}{16}, '>=', 0.95, 'ada002: binary, every list');
cmp_ok(abs($r{sq8}{4} - $r{none}{4}), '<=', 0.005, 'ada002: sq8 recall = unquantized recall at probes 4');
cmp_ok($r{binary}{4}, '>=', $r{none}{4} - 0.05, 'ada002: binary recall near unquantized at probes 4');

# estimate_recall on quantized indexes: every list probed gives 1 for sq8
my $est = $node->safe_psql('postgres', "SET ivfflat.probes = 16; SELECT recall FROM ragstore.estimate_recall('ada_sq8_idx', 50, 10, 0.25)");
is($est, 1, 'estimate_recall on the sq8 index with every list probed');
$est = $node->safe_psql('postgres', "SET ivfflat.probes = 4; SELECT round(recall::numeric, 3) FROM ragstore.estimate_recall('ada_binary_idx', 255, 10, 0.25)");
note "estimate_recall binary probes 4: $est";
cmp_ok(abs($est - $r{binary}{4}), '<=', 0.03, 'estimate_recall agrees with the measured binary recall at probes 4');

# ---- ada002, insert path (index on 64 rows, 191 inserted) and after DELETE + VACUUM
for my $q ('sq8', 'binary') {
  $node->safe_psql('postgres', "CREATE TABLE ada_ins_$q (LIKE ada_none)");
  $node->safe_psql('postgres', "INSERT INTO ada_ins_$q SELECT * FROM ada_none WHERE id < 64");
  $node->safe_psql('postgres',
    "CREATE INDEX ada_ins_${q}_idx ON ada_ins_$q USING ivfflat (embedding vector_cosine_ops) WITH (lists = 8, quantizer = '$q')");
  $node->safe_psql('postgres', "INSERT INTO ada_ins_$q SELECT * FROM ada_none WHERE id >= 64");
  my $ri = recall_at_k(search("ada_ins_$q", $ada, 8, '<=>'), $ada_truth, 10);
  note sprintf('ada002 insert lists=8 probes=8 quantizer=%s recall@10=%.3f', $q, $ri);
  cmp_ok($ri, '>=', $q eq 'sq8' ? 1 : 0.95, "ada002 insert path, $q, every list");
  $node->safe_psql('postgres', "DELETE FROM ada_ins_$q WHERE id % 4 = 1");
  $node->safe_psql('postgres', "VACUUM ada_ins_$q");
  my $truth = exact_ids("ada_ins_$q", $ada, '<=>');
  my $rv = recall_at_k(search("ada_ins_$q", $ada, 8, '<=>'), $truth, 10);
  note sprintf('ada002 after vacuum lists=8 probes=8 quantizer=%s recall@10=%.3f', $q, $rv);
  cmp_ok($rv, '>=', $q eq 'sq8' ? 1 : 0.95, "ada002 after VACUUM, $q, every list");
}

# ---- mnist10k (L2), build path
my $mnist = read_fvecs("$dir/mnist10k/base.fvecs");
my $mq = read_fvecs("$dir/mnist10k/query.fvecs", 200);
my $mtruth = read_ivecs("$dir/mnist10k/groundtruth_l2.ivecs", 200);
load_fvecs_table($node, 'postgres', 'mnist_none', $mnist);
for my $q ('sq8', 'binary') {
  $node->safe_psql('postgres', "CREATE TABLE mnist_$q AS SELECT * FROM mnist_none");
}
my %m;
for my $q ('none', 'sq8', 'binary') {
  $node->safe_psql('postgres', "CREATE INDEX mnist_${q}_idx ON mnist_$q USING ivfflat (embedding) WITH (lists = 50, quantizer = '$q')");
  $m{$q} = recall_at_k(search("mnist_$q", $mq, 8), $mtruth, 10);
  note sprintf('mnist10k lists=50 probes=8 quantizer=%s recall@10=%.3f size=%d', $q, $m{$q}, index_size("mnist_${q}_idx"));
}
cmp_ok(abs($m{sq8} - $m{none}), '<=', 0.005, 'mnist10k: sq8 recall = unquantized recall');
cmp_ok($m{binary}, '>=', $m{none} - 0.05, 'mnist10k: binary recall near unquantized');
verify_clean($node, 'postgres', 'after the recall cases');

# ---- a streaming replica returns the primary's ids in the primary's order
replica_same_ids($node, 'ivf_quantized_standby', 'ada_none', $ada, 'SET ivfflat.probes = 3;',
  [ 'rep_sq8', '<=>', "USING ivfflat (embedding vector_cosine_ops) WITH (lists = 6, quantizer = 'sq8')" ],
  [ 'rep_bin', '<->', "USING ivfflat (embedding vector_l2_ops) WITH (lists = 6, quantizer = 'binary')" ]);

# ---- crash recovery: inserts one per transaction, immediate shutdown, every committed row found
$node->safe_psql('postgres', 'CREATE TABLE crash_q (id int, embedding vector(784))');
$node->safe_psql('postgres', 'INSERT INTO crash_q SELECT * FROM mnist_none WHERE id < 500');
$node->safe_psql('postgres', "CREATE INDEX crash_q_idx ON crash_q USING ivfflat (embedding) WITH (lists = 10, quantizer = 'sq8')");
$node->safe_psql('postgres', 'CHECKPOINT');
my $sql = '';
$sql .= "INSERT INTO crash_q VALUES ($_, '" . vec_literal($mnist->[$_]) . "');\n" for 500 .. 2499;
my $file = $node->basedir . '/quantized_inserts.sql';
PostgreSQL::Test::Utils::append_to_file($file, $sql);
my ($out, $err) = ('', '');
my $h = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $file ], '>', \$out, '2>', \$err);
$node->poll_query_until('postgres', 'SELECT count(*) >= 1200 FROM crash_q') or die 'inserts did not progress';
$node->stop('immediate');
$h->finish;
$node->start;
my $committed = $node->safe_psql('postgres', 'SELECT count(*) FROM crash_q');
cmp_ok($committed, '>=', 1200, "committed rows survived the crash ($committed)");
my $qv = vec_literal($mnist->[3]);
is($node->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = 10;
  SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM crash_q ORDER BY embedding <-> '$qv' LIMIT 100000) s"),
  "$committed|$committed", 'every committed row is found through the quantized index, once');
# (distances, not ids: mnist's integer pixels make equally distant rows, which may come in either
# order)
my @cq = @$mq[ 0 .. 9 ];
is_deeply(top_dists($node, 'postgres', 'crash_q', \@cq, 'SET ivfflat.probes = 10;'),
  top_dists($node, 'postgres', 'crash_q', \@cq, 'SET enable_seqscan = on; SET enable_indexscan = off;'),
  'after recovery, every list probed gives the exact top 10');
$node->safe_psql('postgres', "INSERT INTO crash_q VALUES (9999, '" . vec_literal($mnist->[4000]) . "')");
is($node->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = 10;
  SELECT id FROM crash_q ORDER BY embedding <-> '" . vec_literal($mnist->[4000]) . "' LIMIT 1"), '9999',
  'the index takes inserts after recovery');
verify_clean($node, 'postgres', 'after crash recovery');

$node->stop;
done_testing();
