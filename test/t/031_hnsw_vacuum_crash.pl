# Fault test: immediate shutdown while VACUUM works on an hnsw index (marking, repairing,
# reconnecting, reclaiming) with inserts running against the same index, at random moments,
# several rounds. pgvector 0.8.3 fixed index corruption in exactly this situation. After each
# restart the index must verify clean with heapallindexed (every committed row is in it once
# and reachable, no link to a freed slot), and so after the next complete VACUUM.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use RagstoreTest qw(verify_clean fault_seed wait_then);

fault_seed();

my $node = PostgreSQL::Test::Cluster->new('hnsw_vacuum_crash');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\nmax_connections = 30\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$node->safe_psql('postgres', q{CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(16))});
$node->safe_psql('postgres', q{CREATE FUNCTION rv() RETURNS vector LANGUAGE sql VOLATILE AS
  $$ SELECT ARRAY(SELECT random() FROM generate_series(1, 16))::vector $$});
$node->safe_psql('postgres', 'INSERT INTO items (embedding) SELECT rv() FROM generate_series(1, 4000)');
$node->safe_psql('postgres', 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)');
$node->safe_psql('postgres', 'CHECKPOINT');

my $inserts = $node->basedir . '/inserts.sql';
PostgreSQL::Test::Utils::append_to_file($inserts, "INSERT INTO items (embedding) SELECT rv();\n" x 4000);

my ($faults, $phases) = (0, '');
for my $round (1 .. 4) {
  # a fresh share of dead rows for VACUUM to remove
  $node->safe_psql('postgres', "DELETE FROM items WHERE id % 7 = $round % 7 OR id % 11 = $round % 11");
  my @h;
  for my $c (1 .. 2) {
    my ($o, $e) = ('', '');
    push @h, IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $inserts ],
      '>', \$o, '2>', \$e);
  }
  my ($vo, $ve) = ('', '');
  # cost-based delay stretches VACUUM over seconds (it sleeps at each vacuum_delay_point, which
  # hnsw's passes call per page and per element), so the shutdown can land in any pass
  my $vac = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'),
    '-c', 'SET vacuum_cost_delay = 2', '-c', 'SET vacuum_cost_limit = 1', '-c', 'VACUUM items' ],
    '>', \$vo, '2>', \$ve);
  # VACUUM reaches the index (bulk delete: mark, repair, reconnect, reclaim), then a random wait
  my $at = rand(1.2);
  wait_then($node, q{EXISTS (SELECT 1 FROM pg_stat_progress_vacuum
    WHERE phase IN ('vacuuming indexes', 'cleaning up indexes'))}, $at);
  $node->stop('immediate');
  $_->finish for (@h, $vac);
  $node->start;
  # the VACUUM session lost its server: the shutdown hit it while it ran
  my $hit = $ve =~ /terminat|server closed the connection|connection to server was lost/;
  $faults++ if $hit;
  my $phase = sprintf('%.2f s into the index phase, %s', $at, $hit ? 'VACUUM interrupted' : 'VACUUM had finished');
  $phases .= " $phase;";
  verify_clean($node, 'postgres', "round $round: after a crash during VACUUM ($phase) with concurrent inserts");
  $node->safe_psql('postgres', 'VACUUM items');
  verify_clean($node, 'postgres', "round $round: after the next complete VACUUM");
}
note("immediate shutdowns during VACUUM: $faults of 4 (phases:$phases)");

# The same with a cancel instead of a crash (as autovacuum gives way to a lock request): the
# cancelled VACUUM must leave every visible row reachable, whichever pass it was in.
my $cancels = 0;
for my $round (1 .. 4) {
  $node->safe_psql('postgres', "DELETE FROM items WHERE id % 5 = $round % 5 OR id % 13 = $round % 13");
  my ($vo, $ve) = ('', '');
  my $vac = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'),
    '-c', "SET application_name = 'vacuum_victim'", '-c', 'SET vacuum_cost_delay = 2',
    '-c', 'SET vacuum_cost_limit = 1', '-c', 'VACUUM items' ], '>', \$vo, '2>', \$ve);
  my $at = rand(1.2);
  wait_then($node, q{EXISTS (SELECT 1 FROM pg_stat_progress_vacuum WHERE phase = 'vacuuming indexes')}, $at,
    q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'vacuum_victim'});
  $vac->finish;
  my $hit = $ve =~ /canceling statement due to user request/;
  $cancels++ if $hit;
  verify_clean($node, 'postgres', sprintf('after a cancel %.2f s into the index phase of VACUUM (%s)', $at,
    $hit ? 'cancelled' : 'VACUUM had finished'));
}
note("VACUUMs cancelled in their index phase: $cancels of 4");
cmp_ok($cancels, '>=', 2, "at least two cancels hit a running VACUUM ($cancels)");
$node->safe_psql('postgres', 'VACUUM items');
verify_clean($node, 'postgres', 'after a complete VACUUM');
cmp_ok($faults, '>=', 2, "at least two shutdowns hit a running VACUUM ($faults)");

# Every live row is found through the index (the iterative scan enumerates the graph).
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
  SET hnsw.max_scan_tuples = 1000000; SET work_mem = '256MB';
  SELECT (SELECT count(*) FROM items) - count(DISTINCT id) FROM
    (SELECT id FROM items ORDER BY embedding <-> rv() LIMIT 1000000) s}), '0', 'every live row is found through the index');
unlike(slurp_file($node->logfile), qr/terminated by signal (?:4|6|7|8|11)\b|PANIC|TRAP/, 'no backend crashed');
$node->stop;
done_testing();
