# Fault test: statement_timeout and pg_cancel_backend at random moments of hnsw and ivfflat
# builds (in memory, and hnsw's on-disk path with a small maintenance_work_mem), VACUUMs and
# scans. Each interrupted statement must end with the cancel error (or finish first), the same
# session must go on working, nothing may be left behind (no index, no lock, no leaked buffer
# pin or resource: PostgreSQL warns at the next commit), and every index verifies clean.
# ragstore-tap: long
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);
use RagstoreTest qw(verify_clean fault_seed wait_then);

fault_seed();

my $node = PostgreSQL::Test::Cluster->new('cancel_random');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\nmaintenance_work_mem = '128MB'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$node->safe_psql('postgres', q{SELECT setseed(0.3); CREATE TABLE items (id serial PRIMARY KEY, embedding vector(32));
  INSERT INTO items (embedding) SELECT ARRAY(SELECT random() FROM generate_series(1, 32) WHERE i > 0)::vector
  FROM generate_series(1, 5000) i;
  CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32);
  CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_cosine_ops) WITH (lists = 20)});

# hnsw answers <-> (L2), ivfflat <=> (cosine): each scan uses its own index
my $scans = q{SELECT sum((SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding OP q.v LIMIT 3000) s))
  FROM (SELECT embedding AS v FROM items LIMIT 15) q};
(my $hnsw_scans = $scans) =~ s/OP/<->/;
(my $ivf_scans = $scans) =~ s/OP/<=>/;
my %ops = (
  'hnsw build' => 'CREATE INDEX tmp_idx ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)',
  'hnsw on-disk build' => q{SET maintenance_work_mem = '1MB'; CREATE INDEX tmp_idx ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)},
  'ivfflat build' => 'CREATE INDEX tmp_idx ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 60)',
  'vacuum' => q{DELETE FROM items WHERE id IN (SELECT id FROM items ORDER BY random() LIMIT 300); VACUUM items},
  'hnsw scans' => qq{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order; SET hnsw.ef_search = 100; $hnsw_scans},
  'ivfflat scans' => qq{SET enable_seqscan = off; SET ivfflat.probes = 20; $ivf_scans},
);

# The victim is running one of the statements under test (not a SET or the final check).
my $victim_busy = q{EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'victim'
  AND state = 'active' AND query !~ '^(SET|RESET|SELECT ''alive)')};

# Runs $sql in a session named 'victim' with statement_timeout $timeout_ms (0: none), then a
# query in the same session; cancels it (pg_cancel_backend, from inside the server) $cancel_after
# seconds after it starts working (undef: never). Returns (stdout, stderr).
sub run_victim {
  my ($sql, $timeout_ms, $cancel_after) = @_;
  my ($out, $err) = ('', '');
  # (the check query runs twice: a cancel sent just as the statement under test ended can land on
  # one of them, never on both)
  my $script = "SET application_name = 'victim';\nSET statement_timeout = $timeout_ms;\n$sql;\n"
    . "RESET statement_timeout;\nSELECT 'alive:' || count(*) FROM items;\nSELECT 'alive:' || count(*) FROM items;\n";
  # (a file, not stdin: IPC::Run feeds stdin only while it is pumped)
  my $file = $node->basedir . '/victim.sql';
  unlink $file;
  PostgreSQL::Test::Utils::append_to_file($file, $script);
  my $h = IPC::Run::start([ 'psql', '-X', '-q', '-At', '-d', $node->connstr('postgres'), '-f', $file ],
    '>', \$out, '2>', \$err);
  # (the cancel is sent only while the statement under test still runs: on a slow machine it
  # may have finished, and a cancel of the session's last query is not what is tested)
  wait_then($node, $victim_busy, $cancel_after,
    q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim'
      AND state = 'active' AND query !~ '^(SET|RESET|SELECT ''alive)'})
    if defined $cancel_after;
  $h->finish;
  return ($out, $err);
}

my ($faults, $finished) = (0, 0);
for my $name (sort keys %ops) {
  # how long the statements run (server clock): cancels land at random moments within that
  my @t = split /\n/, $node->safe_psql('postgres', "SELECT extract(epoch FROM clock_timestamp());\n"
    . "$ops{$name};\nSELECT extract(epoch FROM clock_timestamp())");
  my $dur = $t[-1] - $t[0];
  $node->safe_psql('postgres', 'DROP INDEX IF EXISTS tmp_idx');
  my ($out, $err) = run_victim($ops{$name}, 0, undef);
  like($out, qr/alive:\d+/, "$name: runs to completion (" . sprintf('%.2f', $dur) . ' s)');
  $node->safe_psql('postgres', 'DROP INDEX IF EXISTS tmp_idx');
  # (VACUUM gets more tries: a cancel in the middle of its hnsw repairs is the case that matters)
  for my $try (1 .. ($name eq 'vacuum' ? 8 : 3)) {
    my $at = 0.02 + rand(0.9 * $dur);
    my $how = $try == 1 ? 'statement_timeout' : 'pg_cancel_backend';
    ($out, $err) = $how eq 'statement_timeout'
      ? run_victim($ops{$name}, int($at * 1000), undef) : run_victim($ops{$name}, 0, $at);
    # cancelled: the error names a line of the statement under test (lines 3 .. 3 + its newlines of
    # the victim's script); a cancel that reached a later line found the statement finished
    my $last = 3 + ($ops{$name} =~ tr/\n//);
    my $cancelled = grep { /victim\.sql:(\d+): ERROR:\s+canceling statement due to (statement timeout|user request)/
      && $1 >= 3 && $1 <= $last } split /\n/, $err;
    $faults++ if $cancelled;
    $finished++ if !$cancelled;
    my $label = sprintf('%s, %s at %.2f s', $name, $how, $at);
    # (ignore the NOTICE of a build, and a cancel that landed on the SET or the last query)
    my @other = grep { !/canceling statement|NOTICE|DETAIL|HINT|CONTEXT|^\s*$/ } split /\n/, $err;
    is(join("\n", @other), '', "$label: no other error");
    like($out, qr/alive:\d+/, "$label: the session keeps working");
    is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
      WHERE a.application_name = 'victim'}), '0', "$label: no lock left behind");
    if ($name =~ /build/) {
      my $left = $node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'tmp_idx'});
      is($left, $cancelled ? '0' : '1', "$label: " . ($cancelled ? 'no index left behind' : 'the build finished'));
      $node->safe_psql('postgres', 'DROP INDEX IF EXISTS tmp_idx');
    }
  }
  verify_clean($node, 'postgres', "after the interrupted ${name}");
}
note("statements interrupted: $faults (finished before the cancel: $finished)");
# Each cancel lands at a random moment, so some statements finish first; a quarter hitting is enough
# to show the faults are injected (seen: 11-21 of 23, fewest on the assert-enabled server under load).
cmp_ok($faults, '>=', 6, "at least a quarter of the 23 cancels hit a running statement ($faults)");
unlike(slurp_file($node->logfile), qr/leak|terminated by signal (?:4|6|7|8|11)\b|PANIC|TRAP/,
  'no resource leak warning, no crash');
$node->stop;
done_testing();
