# Quantized hnsw (WITH (quantizer = 'sq8' | 'binary')) on real data: recall@10 per quantizer
# through the serial, threaded and spilling builds, the insert path and after DELETE + VACUUM,
# next to the unquantized index at the same ef_search; a streaming replica returning the
# primary's ids in order (also for sq8 codes longer than a page, hnsw and ivfflat, 12,000
# dimensions); crash recovery of inserts into a quantized graph; estimate_recall on a
# quantized index; every case ends with verify_index.
#
# Data: ada002 (255 x 1,536 OpenAI embeddings, cosine, self-queries: row i's nearest neighbour is
# row i) and mnist10k (784 dimensions, L2) for the crash case.
# The scan hands the executor a proven lower bound (sq8) or re-scores the best
# hnsw.rerank_candidates by code distance (binary), so rows come back in exact distance order
# among the graph's candidates: sq8 must match the unquantized index's recall up to the few
# neighbours a code-distance search misses; binary (1 bit per dimension guiding the search)
# may miss more. Thresholds from measured values with a margin (recorded in the notes).
# ragstore-tap: long
# ragstore-tap: not-asan
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use RagstoreTest
  qw(data_dir read_fvecs read_ivecs vec_literal load_fvecs_table recall_at_k top_ids verify_clean
     replica_same_ids);

my $dir = data_dir();
my $node = PostgreSQL::Test::Cluster->new('hnsw_quantized');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf',
  "maintenance_work_mem = 256MB\nshared_buffers = 128MB\nsynchronous_commit = on\nmax_parallel_maintenance_workers = 0\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

sub search {
  my ($table, $queries, $ef, $op) = @_;
  return top_ids($node, 'postgres', $table, $queries, "SET hnsw.ef_search = $ef;", $op);
}

sub exact_ids {
  my ($table, $queries, $op) = @_;
  return top_ids($node, 'postgres', $table, $queries,
    'SET enable_seqscan = on; SET enable_indexscan = off;', $op);
}

sub index_size {
  my ($name) = @_;
  return $node->safe_psql('postgres', "SELECT pg_relation_size('$name')");
}

# ---- ada002, build path: one table per quantizer
my $ada = read_fvecs("$dir/ada002/base.fvecs");
my $ada_truth = read_ivecs("$dir/ada002/groundtruth_cosine_selfquery.ivecs");
load_fvecs_table($node, 'postgres', 'ada_none', $ada);
for my $q ('sq8', 'binary') {
  $node->safe_psql('postgres', "CREATE TABLE ada_$q AS SELECT * FROM ada_none");
}
my (%size, %r);
for my $q ('none', 'sq8', 'binary') {
  $node->safe_psql('postgres',
    "CREATE INDEX ada_${q}_idx ON ada_$q USING hnsw (embedding vector_cosine_ops) WITH (quantizer = '$q')");
  $size{$q} = index_size("ada_${q}_idx");
  for my $ef (10, 40) {
    $r{$q}{$ef} = recall_at_k(search("ada_$q", $ada, $ef, '<=>'), $ada_truth, 10);
    note sprintf('ada002 build quantizer=%s ef_search=%d recall@10=%.3f', $q, $ef, $r{$q}{$ef});
  }
}
note sprintf('ada002 index sizes: none %d, sq8 %d (%.2fx), binary %d (%.2fx) bytes',
  $size{none}, $size{sq8}, $size{sq8} / $size{none}, $size{binary}, $size{binary} / $size{none});
like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN SELECT id FROM ada_sq8 ORDER BY embedding <=> '"
  . vec_literal($ada->[0]) . "' LIMIT 10"), qr/Index Scan using ada_sq8_idx/, 'the planner uses the quantized index');
cmp_ok($size{sq8}, '<', 0.5 * $size{none}, 'sq8 index is under half the unquantized size');
cmp_ok($size{binary}, '<', $size{sq8}, 'binary index is smaller than sq8');
cmp_ok($r{sq8}{40}, '>=', $r{none}{40} - 0.01, 'ada002: sq8 recall at ef_search 40 within 0.01 of unquantized');
cmp_ok($r{sq8}{40}, '>=', 0.98, 'ada002: sq8 recall at ef_search 40');
cmp_ok($r{binary}{40}, '>=', 0.95, 'ada002: binary recall at ef_search 40 (re-scored)');
my $est = $node->safe_psql('postgres',
  "SET hnsw.ef_search = 255; SELECT recall FROM ragstore.estimate_recall('ada_sq8_idx', 50, 10, 0.25)");
is($est, 1, 'estimate_recall on the sq8 index, every row a candidate: 1');
verify_clean($node, 'postgres', 'after the serial builds');

# ---- threaded build (leader + 1 worker) and a build that spills to on-disk inserts
$node->safe_psql('postgres', 'CREATE TABLE ada_par AS SELECT * FROM ada_none');
$node->safe_psql('postgres', "SET max_parallel_maintenance_workers = 1;
  CREATE INDEX ada_par_idx ON ada_par USING hnsw (embedding vector_cosine_ops) WITH (quantizer = 'sq8')");
my $rp = recall_at_k(search('ada_par', $ada, 40, '<=>'), $ada_truth, 10);
note sprintf('ada002 threaded build sq8 recall@10=%.3f', $rp);
cmp_ok($rp, '>=', 0.98, 'ada002: threaded sq8 build recall at ef_search 40');
$node->safe_psql('postgres', 'CREATE TABLE ada_spill AS SELECT * FROM ada_none');
my ($ret, $stdout, $stderr) = $node->psql('postgres', "SET maintenance_work_mem = '1MB'; SET client_min_messages = notice;
  CREATE INDEX ada_spill_idx ON ada_spill USING hnsw (embedding vector_l2_ops) WITH (quantizer = 'binary')");
like($stderr, qr/no longer fits into maintenance_work_mem/, 'the 1 MB build spills to on-disk inserts');
my $rs = recall_at_k(search('ada_spill', $ada, 40, '<->'), exact_ids('ada_spill', $ada, '<->'), 10);
note sprintf('ada002 spilled build binary L2 recall@10=%.3f', $rs);
cmp_ok($rs, '>=', 0.95, 'ada002: spilled binary build recall at ef_search 40');

# ---- insert path (index on 64 rows, 191 inserted) and after DELETE + VACUUM
for my $q ('sq8', 'binary') {
  $node->safe_psql('postgres', "CREATE TABLE ada_ins_$q (LIKE ada_none)");
  $node->safe_psql('postgres', "INSERT INTO ada_ins_$q SELECT * FROM ada_none WHERE id < 64");
  $node->safe_psql('postgres',
    "CREATE INDEX ada_ins_${q}_idx ON ada_ins_$q USING hnsw (embedding vector_cosine_ops) WITH (quantizer = '$q')");
  $node->safe_psql('postgres', "INSERT INTO ada_ins_$q SELECT * FROM ada_none WHERE id >= 64");
  my $ri = recall_at_k(search("ada_ins_$q", $ada, 40, '<=>'), $ada_truth, 10);
  note sprintf('ada002 insert path quantizer=%s recall@10=%.3f', $q, $ri);
  cmp_ok($ri, '>=', $q eq 'sq8' ? 0.98 : 0.95, "ada002 insert path, $q");
  $node->safe_psql('postgres', "DELETE FROM ada_ins_$q WHERE id % 4 = 1");
  $node->safe_psql('postgres', "VACUUM ada_ins_$q");
  my $rv = recall_at_k(search("ada_ins_$q", $ada, 40, '<=>'), exact_ids("ada_ins_$q", $ada, '<=>'), 10);
  note sprintf('ada002 after DELETE + VACUUM quantizer=%s recall@10=%.3f', $q, $rv);
  cmp_ok($rv, '>=', $q eq 'sq8' ? 0.98 : 0.95, "ada002 after VACUUM, $q");
}
verify_clean($node, 'postgres', 'after the insert and vacuum cases');

# ---- a streaming replica returns the primary's ids in the primary's order
replica_same_ids($node, 'hnsw_quantized_standby', 'ada_none', $ada, 'SET hnsw.ef_search = 20;',
  [ 'rep_sq8', '<=>', "USING hnsw (embedding vector_cosine_ops) WITH (quantizer = 'sq8')" ],
  [ 'rep_bin', '<->', "USING hnsw (embedding vector_l2_ops) WITH (quantizer = 'binary')" ]);

# ---- sq8 codes longer than a page (12,000 dimensions: a code tuple on a second page for hnsw, a
# continuation page for ivfflat): the replica replays their builds, inserts and VACUUM and
# returns the primary's ids. 160 generated rows in 10 groups (no third-party data this wide).
my $wide = [ map { my $i = $_;
  [ map { sin(($i % 10) * 1.3 + $_ * 0.011) + 0.3 * sin($i * 0.77 + $_ * 0.0137 * (1 + $i % 3)) }
    1 .. 12000 ] } 0 .. 159 ];
load_fvecs_table($node, 'postgres', 'wide_src', $wide);
replica_same_ids($node, 'hnsw_quantized_wide_standby', 'wide_src', $wide,
  'SET hnsw.ef_search = 40; SET ivfflat.probes = 2;',
  [ 'rep_wide_hnsw', '<->', "USING hnsw (embedding vector_l2_ops) WITH (quantizer = 'sq8')" ],
  [ 'rep_wide_ivf', '<->',
    "USING ivfflat (embedding vector_l2_ops) WITH (lists = 4, quantizer = 'sq8')" ]);

# ---- crash recovery: inserts one per transaction, immediate shutdown, every committed row found
my $mnist = read_fvecs("$dir/mnist10k/base.fvecs", 1500);
load_fvecs_table($node, 'postgres', 'mnist_src', $mnist);
$node->safe_psql('postgres', 'CREATE TABLE crash_q (id int, embedding vector(784))');
$node->safe_psql('postgres', 'INSERT INTO crash_q SELECT * FROM mnist_src WHERE id < 300');
$node->safe_psql('postgres',
  "CREATE INDEX crash_q_idx ON crash_q USING hnsw (embedding vector_l2_ops) WITH (quantizer = 'sq8')");
$node->safe_psql('postgres', 'CHECKPOINT');
my $sql = '';
$sql .= "INSERT INTO crash_q VALUES ($_, '" . vec_literal($mnist->[$_]) . "');\n" for 300 .. 1499;
my $file = $node->basedir . '/quantized_inserts.sql';
PostgreSQL::Test::Utils::append_to_file($file, $sql);
my ($out, $err) = ('', '');
my $h = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $file ],
  '>', \$out, '2>', \$err);
$node->poll_query_until('postgres', 'SELECT count(*) >= 600 FROM crash_q') or die 'inserts did not progress';
$node->stop('immediate');
$h->finish;
$node->start;
my $committed = $node->safe_psql('postgres', 'SELECT count(*) FROM crash_q');
cmp_ok($committed, '>=', 600, "committed rows survived the crash ($committed)");
my $qv = vec_literal($mnist->[3]);
is($node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
  SET hnsw.max_scan_tuples = 100000;
  SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM crash_q ORDER BY embedding <-> '$qv' LIMIT 100000) s"),
  "$committed|$committed", 'every committed row is found through the quantized graph, once');
$node->safe_psql('postgres', "INSERT INTO crash_q VALUES (9999, '" . vec_literal($mnist->[1400]) . "')");
is($node->safe_psql('postgres', "SET enable_seqscan = off;
  SELECT count(*) FROM (SELECT id FROM crash_q ORDER BY embedding <-> '" . vec_literal($mnist->[1400]) . "' LIMIT 2) s
  WHERE id = 9999"), '1', 'the index takes inserts after recovery');
verify_clean($node, 'postgres', 'after crash recovery');

# ---- the same for codes longer than a page (the replica case's 12,000-dimension tables): an
# element and its code tuple (hnsw), an entry and its continuation page (ivfflat) come back
# together after a crash in the middle of inserts
$node->safe_psql('postgres', 'CHECKPOINT');
$sql = '';
for my $n (0 .. 39) {
  my $lit = vec_literal([ map { $_ + 0.01 * ($n + 1) } @{ $wide->[$n] } ]);
  $sql .= "INSERT INTO rep_wide_hnsw VALUES (" . (1000 + $n) . ", '$lit');\n"
    . "INSERT INTO rep_wide_ivf VALUES (" . (1000 + $n) . ", '$lit');\n";
}
$file = $node->basedir . '/wide_inserts.sql';
PostgreSQL::Test::Utils::append_to_file($file, $sql);
($out, $err) = ('', '');
$h = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $file ],
  '>', \$out, '2>', \$err);
$node->poll_query_until('postgres', 'SELECT count(*) >= 8 FROM rep_wide_ivf WHERE id >= 1000')
  or die 'wide inserts did not progress';
$node->stop('immediate');
$h->finish;
$node->start;
for my $t ('rep_wide_hnsw', 'rep_wide_ivf') {
  my $n = $node->safe_psql('postgres', "SELECT count(*) FROM $t");
  is($node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
    SET hnsw.max_scan_tuples = 100000; SET ivfflat.probes = 4;
    SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM $t ORDER BY embedding <-> '"
      . vec_literal($wide->[5]) . "' LIMIT 100000) s"),
    "$n|$n", "every committed row of $t is found after the crash, once");
}
verify_clean($node, 'postgres', 'after crash recovery with codes longer than a page');

$node->stop;
done_testing();
