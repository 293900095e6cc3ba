# Fault test: immediate shutdown at random moments while several sessions insert into an
# ivfflat index (multi-row statements, so chains grow page by page and lists get their first
# page concurrently) and VACUUM compacts it, several rounds. After each restart the index must
# verify clean with heapallindexed: every chain ends, every page is on exactly one chain, every
# committed row is in exactly one list.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use RagstoreTest qw(verify_clean fault_seed wait_then);

fault_seed();

my $node = PostgreSQL::Test::Cluster->new('ivf_insert_crash');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$node->safe_psql('postgres', q{CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(24))});
$node->safe_psql('postgres', q{CREATE FUNCTION rv() RETURNS vector LANGUAGE sql VOLATILE AS
  $$ SELECT ARRAY(SELECT random() FROM generate_series(1, 24))::vector $$});
$node->safe_psql('postgres', 'INSERT INTO items (embedding) SELECT rv() FROM generate_series(1, 2000)');
# many lists, most of them empty after a build on few rows: inserts start their chains
$node->safe_psql('postgres', 'CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 40)');
$node->safe_psql('postgres', 'CREATE INDEX items_ivf_cos ON items USING ivfflat (embedding vector_cosine_ops) WITH (lists = 8)');
$node->safe_psql('postgres', 'CHECKPOINT');

my $inserts = $node->basedir . '/inserts.sql';
# far more statements than run before the shutdown, however fast the machine: every shutdown
# lands on running sessions (the sessions never reach the end of the file)
PostgreSQL::Test::Utils::append_to_file($inserts,
  "INSERT INTO items (embedding) SELECT rv() FROM generate_series(1, 20);\n" x 20000
  . "DELETE FROM items WHERE id % 13 = 0;\n");

my $faults = 0;
for my $round (1 .. 4) {
  my $before = $node->safe_psql('postgres', 'SELECT max(id) FROM items');
  my (@h, @errs);
  for my $c (1 .. 3) {
    my ($o, $e) = ('', '');
    push @errs, \$e;
    push @h, IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $inserts ],
      '>', \$o, '2>', \$e);
  }
  if ($round % 2 == 0) {
    my ($o, $e) = ('', '');
    push @errs, \$e;
    push @h, IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'),
      '-c', 'DELETE FROM items WHERE id % 5 = 0', '-c', 'VACUUM items' ], '>', \$o, '2>', \$e);
  }
  my $at = rand(1.5);
  wait_then($node, "(SELECT max(id) FROM items) > $before + 200", $at);
  $node->stop('immediate');
  $_->finish for @h;
  $node->start;
  # sessions that lost their server: the shutdown hit them while they ran
  my $active = grep { $$_ =~ /terminat|server closed the connection|connection to server was lost/ } @errs;
  $faults++ if $active > 0;
  verify_clean($node, 'postgres', sprintf("round %d: after a crash %.2f s into the run (%d sessions cut off)", $round, $at, $active));
}
note("immediate shutdowns during ivfflat inserts: $faults of 4");
cmp_ok($faults, '>=', 3, "at least three shutdowns hit running inserts ($faults)");

$node->safe_psql('postgres', 'VACUUM items');
verify_clean($node, 'postgres', 'after a complete VACUUM');
# every committed row through the index, once
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfflat.probes = 40;
  SELECT (SELECT count(*) FROM items) - count(DISTINCT id) FROM
    (SELECT id FROM items ORDER BY embedding <-> rv() LIMIT 1000000) s}), '0', 'every row is found through the index');
unlike(slurp_file($node->logfile), qr/terminated by signal (?:4|6|7|8|11)\b|PANIC|TRAP/, 'no backend crashed');
$node->stop;
done_testing();
