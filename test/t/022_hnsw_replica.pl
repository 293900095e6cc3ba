# A streaming replica returns exactly the primary's hnsw results: an index built after the base
# backup (replayed from the build's full-page images), then inserts (generic WAL: new elements
# and neighbour updates), then DELETE + VACUUM (marking, repairs, reclaimed space reused by
# later inserts). Results compared as exact id lists for a set of queries, plus a full
# enumeration through the index.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(data_dir read_fvecs load_fvecs_table vec_literal verify_clean);

my $primary = PostgreSQL::Test::Cluster->new('hnsw_primary');
$primary->init(allows_streaming => 1);
# VACUUM runs only where the test says: an autovacuum ANALYZE holding a snapshot would keep
# VACUUM from removing deleted rows, and the element count checked below would differ.
$primary->append_conf('postgresql.conf', "autovacuum = off\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('hnsw_standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->start;

my $base = read_fvecs(data_dir() . '/sift5k/base.fvecs', 3000);
my $queries = read_fvecs(data_dir() . '/sift5k/query.fvecs', 30);
my @first = @$base[ 0 .. 1999 ];
load_fvecs_table($primary, 'postgres', 'items', \@first);
$primary->safe_psql('postgres', 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)');

sub results {
  my ($node) = @_;
  my $sql = "SET enable_seqscan = off; SET hnsw.ef_search = 20;\n";
  for my $q (@$queries) {
    $sql .= "SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY embedding <-> '" . vec_literal($q) . "' LIMIT 10) s;\n";
  }
  $sql .= q{SET hnsw.iterative_scan = relaxed_order; SET hnsw.max_scan_tuples = 1000000; SET work_mem = '256MB';
    SELECT count(*), md5(string_agg(id::text, ',' ORDER BY id)) FROM (SELECT id FROM items ORDER BY embedding <-> '}
    . vec_literal($queries->[0]) . q{' LIMIT 1000000) s;};
  return $node->safe_psql('postgres', $sql);
}

$primary->wait_for_catchup($standby);
my $p = results($primary);
is(results($standby), $p, 'replica returns the primary results after the build');
like($standby->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN SELECT id FROM items ORDER BY embedding <-> '"
  . vec_literal($queries->[0]) . "' LIMIT 10"), qr/Index Scan using items_hnsw/, 'the replica uses the index');

$primary->safe_psql('postgres', 'INSERT INTO items SELECT id + 2000, embedding FROM items WHERE id < 1000');
$primary->wait_for_catchup($standby);
$p = results($primary);
is(results($standby), $p, 'replica returns the primary results after inserts');

$primary->safe_psql('postgres', 'DELETE FROM items WHERE id % 4 = 0');
$primary->safe_psql('postgres', 'VACUUM items');
$primary->safe_psql('postgres', 'INSERT INTO items SELECT id + 10000, embedding FROM items WHERE id BETWEEN 1000 AND 1299');
$primary->wait_for_catchup($standby);
$p = results($primary);
is(results($standby), $p, 'replica returns the primary results after DELETE, VACUUM and more inserts');
my ($count) = split /\|/, (split /\n/, $p)[-1];
# Inserts never strand an element and VACUUM's reachability pass reconnects whatever a repair
# left without in-links: every live row is found through the index, on both nodes. The copied
# rows share elements with their originals when the insert's search finds them (up to 10 rows
# per element), so there are between one element per distinct value and one per row.
is($count, $primary->safe_psql('postgres', 'SELECT count(*) FROM items'),
  'every live row is found through the index');
is($primary->safe_psql('postgres', "SET ragstore.debug_functions = on;
  SELECT elements BETWEEN (SELECT count(DISTINCT embedding::text) FROM items) AND (SELECT count(*) FROM items),
         orphans, unreachable FROM ragstore.debug_hnsw_graph('items_hnsw')"),
  't|0|0', 'no live element without in-links, none unreachable from the entry point');
verify_clean($primary, 'postgres', 'primary');
verify_clean($standby, 'postgres', 'hot standby');

$standby->stop;
$primary->stop;
done_testing();
