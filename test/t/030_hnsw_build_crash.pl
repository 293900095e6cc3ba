# Fault test: immediate shutdown (no checkpoint, like a power cut) at random moments of hnsw
# builds with parallel maintenance workers and FAISS threads allowed, plain and CONCURRENTLY.
# After each restart: the table is intact, an interrupted plain build left no index, an
# interrupted concurrent build left an invalid index that verify_index refuses (55000) and
# DROP INDEX removes, a finished build's index is complete (WAL replay of its full-page
# images); every index then verifies clean with heapallindexed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);
use RagstoreTest qw(verify_clean fault_seed wait_then);

fault_seed();

my $node = PostgreSQL::Test::Cluster->new('hnsw_build_crash');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\nmax_parallel_maintenance_workers = 2\n"
  . "max_parallel_workers = 4\nmaintenance_work_mem = '256MB'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$node->safe_psql('postgres', q{SELECT setseed(0.42); CREATE TABLE items (id int PRIMARY KEY, embedding vector(32));
  INSERT INTO items SELECT i, ARRAY(SELECT random() FROM generate_series(1, 32) WHERE i > 0)::vector
  FROM generate_series(1, 6000) i; CHECKPOINT});
my $rows = '6000';

# Starts the statements in a background psql (one -c each: CONCURRENTLY cannot run in a
# transaction block); returns the harness.
sub start_bg {
  my ($out, $err) = ('', '');
  return IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), map { ('-c', $_) } @_ ],
    '>', \$out, '2>', \$err);
}

my $build = 'CREATE INDEX %s items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)';
my @settings = ('SET max_parallel_maintenance_workers = 2', 'SET ragstore.max_threads = 2');
# How long a build takes here (server clock): the shutdowns below land at random moments in it.
my @t = split /\n/, $node->safe_psql('postgres', join('; ', @settings) . '; SELECT extract(epoch FROM clock_timestamp());'
  . sprintf($build, '') . '; SELECT extract(epoch FROM clock_timestamp())');
my $build_time = $t[-1] - $t[0];
note(sprintf('a build takes %.2f s', $build_time));
$node->safe_psql('postgres', 'DROP INDEX items_hnsw');

my ($faults, $finished) = (0, 0);
# Four rounds, and up to four more while fewer than two shutdowns hit a running build (under
# load a build can finish before its random moment comes).
for my $round (1 .. 8) {
  last if $round > 4 && $faults >= 2;
  my $concurrently = $round % 2 == 0 ? 'CONCURRENTLY' : '';
  my $h = start_bg(@settings, sprintf($build, $concurrently));
  my $at = rand(0.9 * $build_time);
  wait_then($node, 'EXISTS (SELECT 1 FROM pg_stat_progress_create_index)', $at);
  $node->stop('immediate');
  $h->finish;
  $node->start;
  my $state = $node->safe_psql('postgres',
    q{SELECT coalesce((SELECT indisvalid::text FROM pg_index WHERE indexrelid = to_regclass('items_hnsw')), 'none')});
  my $label = sprintf('round %d (%s, shutdown %.2f s into the build)', $round, $concurrently || 'plain', $at);
  if ($state eq 'false') {
    my ($ret, $o, $e) = $node->psql('postgres', q{SELECT * FROM ragstore.verify_index('items_hnsw')},
      extra_params => [ '-v', 'VERBOSITY=verbose' ]);
    like($e, qr/55000: cannot verify index "items_hnsw": it is not valid/,
      "$label: the interrupted concurrent build's invalid index is refused with 55000");
    $node->safe_psql('postgres', 'DROP INDEX items_hnsw');
  } elsif ($state eq 'true') {
    verify_clean($node, 'postgres', "$label: the build had committed");
    $node->safe_psql('postgres', 'DROP INDEX items_hnsw');
  } else {
    pass("$label: the interrupted build left no index");
  }
  $faults++ if $state ne 'true';
  $finished++ if $state eq 'true';
}
note("immediate shutdowns during a build: $faults (builds already finished: $finished)");
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), $rows, 'the table is intact');
cmp_ok($faults, '>=', 2, "at least two shutdowns hit a running build ($faults of " . ($faults + $finished) . ')');

# A complete build, then a crash before any checkpoint: replay restores the whole index.
$node->safe_psql('postgres', sprintf($build, ''));
$node->stop('immediate');
$node->start;
verify_clean($node, 'postgres', 'a build followed by a crash');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SELECT id FROM items
  ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 77) LIMIT 1}), '77', 'the index answers after recovery');
unlike(slurp_file($node->logfile), qr/terminated by signal (?:4|6|7|8|11)\b|PANIC|TRAP/, 'no backend crashed');
$node->stop;
done_testing();
