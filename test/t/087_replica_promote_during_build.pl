# Fault test: a streaming replica is promoted while an index build's WAL is still on its way.
#   1. An hnsw build commits on the primary and a replica is promoted at once, without waiting
#      for it to catch up (the build's full-page images may be partly received, replayed or
#      not; the commit record may not have arrived).
#   2. The primary is shut down immediately in the middle of an hnsw build and of an ivfflat
#      build (random moments), and the replica is promoted.
# On every promoted replica: an index that exists is valid and verifies clean with
# heapallindexed, one that did not arrive can be built there, and searches work.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use RagstoreTest qw(verify_clean fault_seed wait_then);

fault_seed();

my $primary = PostgreSQL::Test::Cluster->new('build_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "autovacuum = off\nmax_wal_senders = 6\nmaintenance_work_mem = '128MB'\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$primary->safe_psql('postgres', q{SELECT setseed(0.7); CREATE TABLE items (id int PRIMARY KEY, embedding vector(64));
  INSERT INTO items SELECT i, ARRAY(SELECT random() FROM generate_series(1, 64) WHERE i > 0)::vector
  FROM generate_series(1, 5000) i});
$primary->backup('base');
my @standbys;
for my $name ('replica_a', 'replica_b') {
  my $s = PostgreSQL::Test::Cluster->new($name);
  $s->init_from_backup($primary, 'base', has_streaming => 1);
  $s->start;
  push @standbys, $s;
}
$primary->wait_for_catchup($_) for @standbys;
my ($a, $b) = @standbys;

# Checks a promoted node: indexes that arrived are valid and clean; missing ones can be built.
sub check_promoted {
  my ($node, $what) = @_;
  $node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion did not finish';
  is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '5000', "$what: the table is complete");
  my $present = $node->safe_psql('postgres',
    q{SELECT string_agg(c.relname || ':' || i.indisvalid, ',' ORDER BY c.relname) FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'items'::regclass AND c.relname <> 'items_pkey'});
  note("$what: indexes that arrived: " . ($present || 'none'));
  unlike($present, qr/:false/, "$what: no invalid index arrived");
  $node->safe_psql('postgres', 'CREATE INDEX IF NOT EXISTS items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)');
  $node->safe_psql('postgres', 'CREATE INDEX IF NOT EXISTS items_ivf ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 30)');
  verify_clean($node, 'postgres', $what);
  is($node->safe_psql('postgres', q{SET enable_seqscan = off; SELECT id FROM items
    ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 321) LIMIT 1}), '321', "$what: the hnsw index answers");
}

# 1. promote replica_a right after the build commits on the primary
$primary->safe_psql('postgres', 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)');
my $lag = $primary->safe_psql('postgres',
  q{SELECT coalesce(max(pg_current_wal_lsn() - replay_lsn), 0) FROM pg_stat_replication WHERE application_name = 'replica_a'});
$a->promote;
note("replica_a was $lag bytes of WAL behind when promoted");
check_promoted($a, 'promoted right after the build committed');

# 2. the primary stops in the middle of a build; replica_b is promoted
$primary->safe_psql('postgres', 'DROP INDEX items_hnsw');
$primary->wait_for_catchup($b);
my ($o, $e) = ('', '');
my $h = IPC::Run::start([ 'psql', '-X', '-q', '-d', $primary->connstr('postgres'),
  '-c', 'CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 30)',
  '-c', 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)' ],
  '>', \$o, '2>', \$e);
my $at = rand(3.0);
wait_then($primary, 'EXISTS (SELECT 1 FROM pg_stat_progress_create_index)', $at);
$primary->stop('immediate');
$h->finish;
my $phase = $e =~ /server closed the connection|terminat|connection to server was lost/
  ? 'a build (cut off)' : 'nothing (both builds had finished)';
note(sprintf('primary stopped %.2f s after the first build started, during %s', $at, $phase));
$b->promote;
check_promoted($b, 'promoted after the primary stopped during a build');

for my $n ($a, $b) {
  unlike(slurp_file($n->logfile), qr/terminated by signal (?:4|6|7|8|11)\b|PANIC|TRAP/, $n->name . ': no backend crashed');
  $n->stop;
}
done_testing();
