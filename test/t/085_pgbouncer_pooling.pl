# Everything through PgBouncer (transaction pooling, a pool of 4 server connections) with 16
# pgbench clients: searches with SET LOCAL, inserts of vectors, and the same answers as a direct
# connection; no error, no lost row (rows counted afterwards against the transactions pgbench
# reports), never more server connections than the pool. Debian's PgBouncer 1.18 has no
# prepared statements in transaction mode: pgbench runs with -M extended and -M simple.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(data_dir read_fvecs load_fvecs_table vec_literal);
use RagstoreScale qw(start_pgbouncer stop_pgbouncer run_pgbench write_script);

my $pool = 4;
my $clients = 16;

my $node = PostgreSQL::Test::Cluster->new('pooled');
$node->init;
# fewer connection slots than clients: 16 direct clients cannot all connect
$node->append_conf('postgresql.conf', "max_connections = 12\nshared_buffers = 32MB\nlog_statement = none\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

my $base = read_fvecs(data_dir() . '/sift5k/base.fvecs', 2000);
my $queries = read_fvecs(data_dir() . '/sift5k/query.fvecs', 100);
load_fvecs_table($node, 'postgres', 'items', $base);
load_fvecs_table($node, 'postgres', 'queries', $queries);
$node->safe_psql('postgres', q{
  ALTER TABLE queries RENAME COLUMN id TO qid;
  CREATE TABLE events (seq bigserial PRIMARY KEY, client int NOT NULL, qid int NOT NULL,
                       nearest int NOT NULL, embedding vector(128) NOT NULL);
  VACUUM ANALYZE items; VACUUM ANALYZE queries;});

my $bouncer = start_pgbouncer(databases => { app => $node }, pool_size => $pool);

# The same answers through the pooler as directly.
for my $q (0, 17, 99) {
  my $sql = "SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY embedding <-> "
    . "(SELECT embedding FROM queries WHERE qid = $q) LIMIT 10) s";
  my $direct = $node->safe_psql('postgres', $sql);
  my $pooled = `psql -X -tA -h 127.0.0.1 -p $bouncer->{port} -U $bouncer->{user} -d app -c "$sql"`;
  chomp $pooled;
  is($pooled, $direct, "query $q: same 10 ids through PgBouncer as direct");
}

# A search transaction: ef_search set for this transaction only (SET LOCAL travels with the
# transaction to whichever server connection runs it); the script fails (division by zero) if
# the setting is not the one it just set.
my $search = write_script('search', <<'SQL');
\set q random(0, 99)
BEGIN;
SET LOCAL hnsw.ef_search = 20;
SELECT (current_setting('hnsw.ef_search') = '20')::int AS ef_ok \gset
\if :ef_ok = 0
SELECT 1 / 0;
\endif
SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = :q) LIMIT 10;
COMMIT;
SQL
# A write transaction: search, then record the query and its nearest row.
my $write = write_script('write', <<'SQL');
\set q random(0, 99)
BEGIN;
SELECT id AS nearest FROM items
 ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = :q) LIMIT 1 \gset
INSERT INTO events (client, qid, nearest, embedding)
  SELECT :client_id, :q, :nearest, embedding FROM queries WHERE qid = :q;
COMMIT;
SQL

# Direct, 16 clients do not fit into 12 connection slots.
my $direct = run_pgbench(port => $node->port, db => 'postgres',
  args => [ '-h', $node->host, '-c', $clients, '-j', 2, '-t', 2, '-M', 'extended' ], scripts => [$search]);
isnt($direct->{rc}, 0, "$clients clients directly: pgbench fails");
like($direct->{err} . $direct->{out}, qr/too many clients/, '... with "too many clients"');

my $expected_events = 0;
for my $mode ('extended', 'simple') {
  # sample the server connections while pgbench runs through the pooler
  my $args = [ '-c', $clients, '-j', 2, '-t', 40, '-M', $mode ];
  my ($out, $err) = ('', '');
  my @cmd = ('pgbench', '-n', '-h', '127.0.0.1', '-p', $bouncer->{port}, '-U', $bouncer->{user},
             @$args, '-f', "$search\@3", '-f', "$write\@1", 'app');
  my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err,
                          IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
  my $max_servers = 0;
  while ($h->pumpable) {
    my $n = $node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
                                            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()});
    $max_servers = $n if $n > $max_servers;
    $h->pump_nb;
    select(undef, undef, undef, 0.05);
  }
  $h->finish;
  my $rc = $? >> 8;
  is($rc, 0, "-M $mode: $clients clients through a pool of $pool: pgbench succeeds") or diag("$out\n$err");
  my ($failed) = $out =~ /^number of failed transactions: (\d+)/m;
  is($failed // 0, 0, "-M $mode: no failed transaction");
  my @per = ($out =~ /^ - (\d+) transactions \(/mg);
  is(scalar @per, 2, "-M $mode: per-script counts reported");
  is($per[0] + $per[1], $clients * 40, "-M $mode: every transaction ran");
  cmp_ok($max_servers, '<=', $pool, "-M $mode: at most $pool server connections (saw $max_servers)");
  cmp_ok($max_servers, '>=', 1, "-M $mode: the pool was used");
  $expected_events += $per[1];
  is($node->safe_psql('postgres', 'SELECT count(*) FROM events'), $expected_events,
     "-M $mode: one events row per write transaction ($per[1] this run)");
}

# The rows are right, not only counted: each event's nearest row is the exact nearest neighbour.
is($node->safe_psql('postgres', q{
  SELECT count(*) FROM events e
   WHERE e.nearest <> (SELECT id FROM items ORDER BY embedding <-> e.embedding LIMIT 1)}),
   '0', 'every event recorded the true nearest row');
is($node->safe_psql('postgres', 'SELECT count(DISTINCT client) FROM events'), $clients,
   'every client wrote');

stop_pgbouncer($bouncer);
$node->stop;
done_testing();
