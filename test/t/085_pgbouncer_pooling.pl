# Everything through PgBouncer (transaction pooling, a pool of 4 server connections) with 16
# pgbench clients: searches with SET LOCAL, inserts of vectors, ragstore.log_interaction,
# ragstore.cache_lookup, ragstore.cache_store and the rollup refresh, all mixed; the same answers
# as a direct connection; no error, no lost row (log rows, cache entries, rollup totals and
# inserted rows counted afterwards against the transactions pgbench reports), never more server
# connections than the pool. Debian's PgBouncer 1.18 has no
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

# The interaction log: one row per transaction, the client's number as its user.
my $log = write_script('log', <<'SQL');
\set in_tok random(10, 4000)
SELECT ragstore.log_interaction(request_model => 'gpt-4o-mini', provider => 'openai',
         user_id => 'client-' || :client_id, input_tokens => :in_tok, output_tokens => 25,
         duration_ms => 300, cost => 0.0001, cache_outcome => 'miss');
SQL
# Cache lookups of the 50 stored queries: each must hit its own entry (else division by zero).
my $lookup = write_script('lookup', <<'SQL');
\set k random(0, 49)
SELECT count(*) AS hits FROM ragstore.cache_lookup(
  (SELECT embedding FROM queries WHERE qid = :k), 'bench-model', max_distance => 0.001)
  WHERE response = 'answer ' || :k \gset
\if :hits = 0
SELECT 1 / 0;
\endif
SQL
# Cache stores, under another model, counted afterwards.
my $store = write_script('store', <<'SQL');
\set k random(0, 99)
SELECT ragstore.cache_store(prompt => 'client ' || :client_id, response => 'stored',
         embedding => (SELECT embedding FROM queries WHERE qid = :k), model => 'stored-model');
SQL
my $refresh = write_script('refresh', "SELECT ragstore.refresh_usage_daily();\n");
$node->safe_psql('postgres', q{
  SELECT count(ragstore.cache_store(prompt => 'query ' || qid, embedding => embedding,
                                    response => 'answer ' || qid, model => 'bench-model'))
    FROM queries WHERE qid < 50});
my @scripts = ([ search => 3 ], [ write => 1 ], [ log => 2 ], [ lookup => 2 ], [ store => 1 ], [ refresh => 1 ]);
my %path = (search => $search, write => $write, log => $log, lookup => $lookup, store => $store,
            refresh => $refresh);

# Direct, 16 clients do not fit into 12 connection slots.
my $direct = run_pgbench(port => $node->port, db => 'postgres',
  args => [ '-h', $node->host, '-c', $clients, '-j', 2, '-t', 2, '-M', 'extended' ], scripts => [$search]);
isnt($direct->{rc}, 0, "$clients clients directly: pgbench fails");
like($direct->{err} . $direct->{out}, qr/too many clients/, '... with "too many clients"');

my %expected = map { $_->[0] => 0 } @scripts;
for my $mode ('extended', 'simple') {
  # sample the server connections while pgbench runs through the pooler
  my $args = [ '-c', $clients, '-j', 2, '-t', 40, '-M', $mode ];
  my ($out, $err) = ('', '');
  my @cmd = ('pgbench', '-n', '-h', '127.0.0.1', '-p', $bouncer->{port}, '-U', $bouncer->{user},
             @$args, (map { ('-f', "$path{$_->[0]}\@$_->[1]") } @scripts), 'app');
  my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err,
                          IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
  my $max_servers = 0;
  while ($h->pumpable) {
    # The sampler's own sessions are tagged and left out: the backend of the previous sample
    # may still be exiting (it stays in pg_stat_activity until its process is gone).
    my $n = $node->safe_psql('postgres', q{SET application_name = 'rs_085_sampler';
                                            SELECT count(*) FROM pg_stat_activity
                                            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                                              AND application_name <> 'rs_085_sampler'});
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
  is(scalar @per, scalar @scripts, "-M $mode: per-script counts reported");
  my $sum = 0;
  $sum += $_ for @per;
  is($sum, $clients * 40, "-M $mode: every transaction ran");
  for my $i (0 .. $#scripts) {
    cmp_ok($per[$i] // 0, '>', 0, "-M $mode: script $scripts[$i][0] ran");
    $expected{ $scripts[$i][0] } += $per[$i] // 0;
  }
  cmp_ok($max_servers, '<=', $pool, "-M $mode: at most $pool server connections (saw $max_servers)");
  cmp_ok($max_servers, '>=', 1, "-M $mode: the pool was used");
  is($node->safe_psql('postgres', 'SELECT count(*) FROM events'), $expected{write},
     "-M $mode: one events row per write transaction");
  is($node->safe_psql('postgres', 'SELECT count(*) FROM ragstore.interactions'), $expected{log},
     "-M $mode: one log row per log_interaction transaction");
  is($node->safe_psql('postgres', q{SELECT count(*) FROM ragstore.cache_entries WHERE model = 'stored-model'}),
     $expected{store}, "-M $mode: one cache entry per cache_store transaction");
}

# The rollup, refreshed concurrently with the inserts, loses no call once refreshed again.
$node->safe_psql('postgres', 'SELECT ragstore.refresh_usage_daily()');
is($node->safe_psql('postgres', 'SELECT sum(calls) FROM ragstore.usage_daily'), $expected{log},
   'usage_daily counts every logged call');
is($node->safe_psql('postgres', 'SELECT sum(input_tokens) FROM ragstore.usage_daily'),
   $node->safe_psql('postgres', 'SELECT sum(input_tokens) FROM ragstore.interactions'),
   'usage_daily sums every logged input token');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT user_id) FROM ragstore.interactions}), $clients,
   'every client logged');

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
