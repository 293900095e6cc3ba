# hnsw recall of sparsevec and bit for every operator class and every path, on the geometries
# of pgvector 0.8's own recall tests (its test/t build, insert and vacuum recall files), with our
# own data, queries and wording, and its thresholds; vector and halfvec are in 025, which
# describes the paths (RagstoreRecall.pm).
#   - 10,000 rows of sparsevec(3) with components random() * random(), 20 queries uniform in
#     [0, 1)^3, LIMIT 20: recall >= 0.99, inner product >= 0.97;
#   - 10,000 random bit(52) rows, 20 random queries, ef_search 100, every row at the 20th
#     distance or closer counting as a right answer (Hamming distances tie a lot): Hamming
#     >= 0.98, Jaccard >= 0.95;
#   - pgvector's VACUUM geometry, m 4, ef_construction 8, every row but the first 2,500
#     deleted: sparsevec(3) of random() components, L2: >= 0.18 at ef_search 20 and >= 0.93 at
#     ef_search 100 before VACUUM, >= 0.95 at ef_search 20 after it; bit(52) Hamming at
#     ef_search 100: >= 0.35 before VACUUM, >= 0.80 after it.
# What it catches besides 025's: a VACUUM that repairs lists from 2-hop candidates only (bit
# Hamming after VACUUM 0.77), and any path that loses elements of a sparse or bit index.
# ragstore-tap: long
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreRecall qw(recall_queries opclass_paths vacuum_geometry);

my $node = PostgreSQL::Test::Cluster->new('hnsw_recall_sparse_bit');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\nmax_parallel_maintenance_workers = 2\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
srand(26);

$node->safe_psql('postgres', "SELECT setseed(0.25); CREATE TABLE b_sparsevec (i int4 PRIMARY KEY, v sparsevec(3));
  INSERT INTO b_sparsevec SELECT i, ARRAY[random() * random(), random() * random(), random() * random()]::vector::sparsevec
    FROM generate_series(1, 10000) i; ANALYZE b_sparsevec");
my $sq = recall_queries('sparsevec', 3);
my %ops = (l2 => '<->', ip => '<#>', cosine => '<=>', l1 => '<+>');
for my $opclass ('l2', 'ip', 'cosine', 'l1') {
  opclass_paths($node, 'b_sparsevec', "sparsevec_${opclass}_ops", $ops{$opclass}, $sq, $opclass eq 'ip' ? 0.97 : 0.99);
}

my $bits = '(random() * 4503599627370496)::bigint::bit(52)';  # 2^52
$node->safe_psql('postgres', "SELECT setseed(0.5); CREATE TABLE b_bit (i int4 PRIMARY KEY, v bit(52));
  INSERT INTO b_bit SELECT i, $bits FROM generate_series(1, 10000) i; ANALYZE b_bit");
my $bq = recall_queries('bit', 52);
for my $c ([ 'hamming', '<~>', 0.98 ], [ 'jaccard', '<%>', 0.95 ]) {
  opclass_paths($node, 'b_bit', "bit_$c->[0]_ops", $c->[1], $bq, $c->[2], ties => 1,
    settings => 'SET hnsw.ef_search = 100;');
}

vacuum_geometry($node, 'vg_sparsevec', 'sparsevec(3)', 'ARRAY[random(), random(), random()]::vector::sparsevec',
  'sparsevec_l2_ops', '<->', recall_queries('sparsevec', 3), [ [ 20, 0.18 ], [ 100, 0.93 ] ], [ [ 20, 0.95 ] ]);
vacuum_geometry($node, 'vg_bit', 'bit(52)', $bits, 'bit_hamming_ops', '<~>', $bq, [ [ 100, 0.35 ] ], [ [ 100, 0.80 ] ],
  ties => 1);

$node->stop;
done_testing();
