# hnsw recall of the dense types (vector, halfvec) for every operator class and every path, on
# the low-dimensional, unnormalised geometries of pgvector 0.8's own recall tests (its test/t
# build, insert and vacuum recall files), with our own data, queries and wording, and its
# thresholds; sparsevec and bit are in 028.
#   - 10,000 rows of vector(3) with components random() * random(), 20 queries uniform in
#     [0, 1)^3, LIMIT 20: recall >= 0.99, inner product >= 0.97;
#   - 10,000 rows of halfvec(10) with components 2 * random() * random(): recall >= 0.98;
#   - pgvector's VACUUM geometry: 10,000 rows of random() components in 3 dimensions, m 4,
#     ef_construction 8, every row but the first 2,500 deleted: recall >= 0.18 at ef_search 20
#     and >= 0.93 at ef_search 100 before VACUUM, >= 0.95 at ef_search 20 after it.
# Paths, each against one exact answer per query (the same rows every time, RagstoreRecall.pm):
# CREATE INDEX without build threads, with them, spilling out of maintenance_work_mem (the rest
# inserted on disk), 4 clients INSERTing into an indexed table (pgvector's insert tests use
# 10), and on that table DELETE of every 5th row + VACUUM, held to the class's threshold.
# What it catches: the build's reachability repair rewriting the lists of the few elements every
# inner-product search goes through (vector inner product fell to 0.71-0.86); inserts that moved
# every link a full list dropped into the new element's list, overwriting its own nearest
# neighbours (halfvec L1 after inserts 0.975).
# ragstore-tap: long
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreRecall qw(recall_queries opclass_paths vacuum_geometry);

my $node = PostgreSQL::Test::Cluster->new('hnsw_recall_dense');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\nmax_parallel_maintenance_workers = 2\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
srand(25);

my %ops = (l2 => '<->', ip => '<#>', cosine => '<=>', l1 => '<+>');
my @types = (
  [ 'vector', 'vector(3)', 3, 'ARRAY[random() * random(), random() * random(), random() * random()]' ],
  [ 'halfvec', 'halfvec(10)', 10,
    'ARRAY(SELECT 2 * random() * random() FROM generate_series(1, 10) WHERE i > 0)::halfvec(10)' ]);
for my $t (@types) {
  my ($type, $decl, $dim, $expr) = @$t;
  my $base = "b_$type";
  $node->safe_psql('postgres', "SELECT setseed(0.25); CREATE TABLE $base (i int4 PRIMARY KEY, v $decl);
    INSERT INTO $base SELECT i, $expr FROM generate_series(1, 10000) i; ANALYZE $base");
  my $queries = recall_queries($type, $dim);
  for my $opclass ('l2', 'ip', 'cosine', 'l1') {
    my $min = $type eq 'halfvec' ? 0.98 : $opclass eq 'ip' ? 0.97 : 0.99;
    opclass_paths($node, $base, "${type}_${opclass}_ops", $ops{$opclass}, $queries, $min);
  }
}

for my $type ('vector', 'halfvec') {
  vacuum_geometry($node, "vg_$type", "$type(3)", 'ARRAY[random(), random(), random()]', "${type}_l2_ops", '<->',
    recall_queries($type, 3), [ [ 20, 0.18 ], [ 100, 0.93 ] ], [ [ 20, 0.95 ] ]);
}

$node->stop;
done_testing();
