# A streaming replica returns exactly the primary's search results (the same ids in the same
# order), through hnsw and ivfflat indexes and by exact search, after the primary built the
# indexes, inserted, deleted and vacuumed: everything reaches
# the replica through WAL only (the base backup is taken before any of it). Then the replica is
# promoted: it keeps serving the same results and accepts inserts into both index types that its
# searches find.
# ragstore-tap: long
# ragstore-tap: not-asan
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(data_dir read_fvecs load_fvecs_table vec_literal verify_clean);
use RagstoreScale qw(wait_for_replay);

my $n_base = 3000;     # rows before the replica exists
my $n_more = 500;      # rows inserted after
my $n_queries = 30;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_buffers = 64MB
max_connections = 20
log_statement = none
hot_standby_feedback = on
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION ragstore');

my $base = read_fvecs(data_dir() . '/sift5k/base.fvecs', $n_base + $n_more);
my $queries = read_fvecs(data_dir() . '/sift5k/query.fvecs', $n_queries);
my @first = @$base[ 0 .. $n_base - 1 ];
load_fvecs_table($primary, 'postgres', 'items', \@first);

# The replica starts from a backup of the table only.
$primary->backup('before_indexes');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'before_indexes', has_streaming => 1);
$standby->start;

# The tables the searches run on, each with its access path (built after the backup, so the
# build itself reaches the replica through WAL).
# items: exact search (sequential scan), the reference; items_hnsw and items_ivf: the same rows
# under an hnsw and an ivfflat index, searched through the index.
my %tables = (
  items => { order => 'embedding <-> %s', setup => 'SET enable_indexscan = off;' },
  items_hnsw => {
    order => 'embedding <-> %s', setup => 'SET hnsw.ef_search = 40;', plan => qr/Index Scan using items_hnsw_idx/,
    index => 'CREATE INDEX items_hnsw_idx ON items_hnsw USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)' },
  items_ivf => {
    order => 'embedding <-> %s', setup => 'SET ivfflat.probes = 4;', plan => qr/Index Scan using items_ivf_idx/,
    index => 'CREATE INDEX items_ivf_idx ON items_ivf USING ivfflat (embedding vector_l2_ops) WITH (lists = 30)' },
);
for my $t (sort keys %tables) {
  next if $t eq 'items';
  $primary->safe_psql('postgres', "CREATE TABLE $t AS SELECT * FROM items; ALTER TABLE $t ADD PRIMARY KEY (id)");
}
for my $t (sort keys %tables) {
  $primary->safe_psql('postgres', $tables{$t}{index}) if $tables{$t}{index};
}

# Inserts, deletes (every 7th row, so deleted rows sit in every part of the indexes), VACUUM.
my $copy = '';
for my $i ($n_base .. $n_base + $n_more - 1) {
  $copy .= "INSERT INTO %t VALUES ($i, '" . vec_literal($base->[$i]) . "');\n";
}
for my $t (sort keys %tables) {
  (my $sql = $copy) =~ s/%t/$t/g;
  $primary->safe_psql('postgres', "BEGIN;\n$sql COMMIT;");
  $primary->safe_psql('postgres', "DELETE FROM $t WHERE id % 7 = 0");
  $primary->safe_psql('postgres', "VACUUM $t");
  $primary->safe_psql('postgres', "ANALYZE $t");
}
wait_for_replay($primary, $standby);

isnt($primary->safe_psql('postgres',
  q{SELECT backend_xmin FROM pg_stat_replication WHERE application_name = 'standby'}), '',
  'hot_standby_feedback: the primary knows the replica\'s xmin');

for my $t (grep { $tables{$_}{plan} } sort keys %tables) {
  my $plan = $standby->safe_psql('postgres', "$tables{$t}{setup} EXPLAIN (COSTS OFF) SELECT id FROM $t ORDER BY "
    . sprintf($tables{$t}{order}, "'" . vec_literal($queries->[0]) . "'") . " LIMIT 10");
  like($plan, $tables{$t}{plan}, "$t: the replica searches through the index");
}

sub search {
  my ($node, $t, $q) = @_;
  my $order = sprintf($tables{$t}{order}, "'" . vec_literal($queries->[$q]) . "'");
  return $node->safe_psql('postgres', "$tables{$t}{setup} SELECT string_agg(id::text, ',' ORDER BY rn) FROM
      (SELECT id, row_number() OVER () AS rn FROM (SELECT id FROM $t ORDER BY $order LIMIT 10) s) r");
}

my %before;
for my $t (sort keys %tables) {
  my ($same, $deleted_seen, $full) = (0, 0, 0);
  for my $q (0 .. $n_queries - 1) {
    my $p = search($primary, $t, $q);
    my $s = search($standby, $t, $q);
    $before{$t}[$q] = $p;
    $same++ if $p eq $s;
    my @ids = split /,/, $p;
    $full++ if @ids == 10;
    $deleted_seen += grep { $_ % 7 == 0 } @ids;
  }
  is($same, $n_queries, "$t: replica returns the primary's ids in the primary's order for all $n_queries queries");
  is($full, $n_queries, "$t: every query returns 10 rows");
  is($deleted_seen, 0, "$t: no deleted row comes back");
  is($standby->safe_psql('postgres', "SELECT count(*) FROM $t"), $primary->safe_psql('postgres', "SELECT count(*) FROM $t"),
     "$t: same row count on the replica");
}

verify_clean($primary, 'postgres', 'primary');
verify_clean($standby, 'postgres', 'hot standby');

# Promotion: the replica becomes a primary, keeps answering the same, and takes inserts.
$primary->stop;
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion did not finish';
for my $t (sort keys %tables) {
  my $same = 0;
  for my $q (0 .. $n_queries - 1) {
    $same++ if search($standby, $t, $q) eq $before{$t}[$q];
  }
  is($same, $n_queries, "$t: promoted replica returns the same results as before");
  # new rows: the query vectors themselves, each must be found as its own nearest neighbour
  my $ins = join('', map { "INSERT INTO $t VALUES (" . (100000 + $_) . ", '" . vec_literal($queries->[$_]) . "');\n" }
                   0 .. $n_queries - 1);
  $standby->safe_psql('postgres', "BEGIN;\n$ins COMMIT;");
  my $found = 0;
  for my $q (0 .. $n_queries - 1) {
    my @ids = split /,/, search($standby, $t, $q);
    $found++ if $ids[0] == 100000 + $q;
  }
  # (an approximate index may miss one; exact search never does)
  cmp_ok($found, '>=', $tables{$t}{plan} ? $n_queries - 1 : $n_queries,
         "$t: rows inserted after promotion are found first by their own vector ($found of $n_queries)");
}

verify_clean($standby, 'postgres', 'promoted replica after inserts');

$standby->stop;
done_testing();
