# ivfflat on a streaming replica: the index is built, filled, pruned (DELETE + VACUUM) on the
# primary after the base backup, so all of it reaches the replica through WAL only (the build's
# full-page images and the generic WAL records of inserts, chain extensions and vacuum). The
# replica must return exactly the primary's ids in the primary's order, for the l2 and cosine
# operator classes, at a partial and an exhaustive probe count.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(data_dir read_fvecs load_fvecs_table vec_literal verify_clean);

my $n_base = 2000;
my $n_more = 600;
my $n_queries = 25;

my $primary = PostgreSQL::Test::Cluster->new('ivf_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_buffers = 64MB\nmax_connections = 20\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION ragstore');

my $base = read_fvecs(data_dir() . '/sift5k/base.fvecs', $n_base + $n_more);
my $queries = read_fvecs(data_dir() . '/sift5k/query.fvecs', $n_queries);
my @first = @$base[ 0 .. $n_base - 1 ];
load_fvecs_table($primary, 'postgres', 'items', \@first);
$primary->safe_psql('postgres', 'CREATE TABLE items_cos AS SELECT * FROM items');

$primary->backup('before_index');
my $standby = PostgreSQL::Test::Cluster->new('ivf_standby');
$standby->init_from_backup($primary, 'before_index', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', 'CREATE INDEX items_ivf ON items USING ivfflat (embedding) WITH (lists = 20)');
$primary->safe_psql('postgres',
  'CREATE INDEX items_cos_ivf ON items_cos USING ivfflat (embedding vector_cosine_ops) WITH (lists = 20)');
for my $t ('items', 'items_cos') {
  my $sql = "BEGIN;\n";
  for my $i ($n_base .. $n_base + $n_more - 1) {
    $sql .= "INSERT INTO $t VALUES ($i, '" . vec_literal($base->[$i]) . "');\n";
  }
  $primary->safe_psql('postgres', "$sql COMMIT;");
  $primary->safe_psql('postgres', "DELETE FROM $t WHERE id % 7 = 0");
  $primary->safe_psql('postgres', "VACUUM $t");
}
$primary->wait_for_catchup($standby, 'replay');

sub search {
  my ($node, $t, $op, $probes, $q) = @_;
  return $node->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = $probes;
    SELECT string_agg(id::text, ',' ORDER BY rn) FROM (SELECT id, row_number() OVER () AS rn FROM
      (SELECT id FROM $t ORDER BY embedding $op '" . vec_literal($queries->[$q]) . "' LIMIT 10) s) r");
}

like($standby->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN SELECT id FROM items ORDER BY embedding <-> '"
  . vec_literal($queries->[0]) . "' LIMIT 10"), qr/Index Scan using items_ivf/, 'the replica plans the ivfflat index');

for my $case (['items', '<->'], ['items_cos', '<=>']) {
  my ($t, $op) = @$case;
  for my $probes (3, 20) {
    my ($same, $full, $deleted) = (0, 0, 0);
    for my $q (0 .. $n_queries - 1) {
      my $p = search($primary, $t, $op, $probes, $q);
      my $s = search($standby, $t, $op, $probes, $q);
      $same++ if $p eq $s;
      my @ids = split /,/, $p;
      $full++ if @ids == 10;
      $deleted += grep { $_ % 7 == 0 } @ids;
    }
    is($same, $n_queries, "$t probes=$probes: replica returns the primary's ids in order for all queries");
    is($full, $n_queries, "$t probes=$probes: 10 rows per query");
    is($deleted, 0, "$t probes=$probes: no deleted row comes back");
  }
}
# rows inserted after the build (ids >= n_base) are reachable on the replica through the index
is($standby->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = 20;
  SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> '" . vec_literal($queries->[0]) . "' LIMIT 100000) s WHERE id >= $n_base"),
  scalar(grep { $_ % 7 != 0 } $n_base .. $n_base + $n_more - 1), 'replica index holds every live inserted row');
verify_clean($primary, 'postgres', 'primary');
verify_clean($standby, 'postgres', 'hot standby');

$standby->stop;
$primary->stop;
done_testing();
