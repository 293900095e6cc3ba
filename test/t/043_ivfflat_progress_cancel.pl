# ivfflat build progress and cancellation: a long build (20,000 x 256 random rows into 2,000
# lists: k-means alone would take many seconds) reports its phase in
# pg_stat_progress_create_index; pg_cancel_backend during k-means stops it quickly (FAISS's
# interrupt callback reads PostgreSQL's pending-cancel flag; without it the build would only
# notice the cancel after k-means), the error is the usual cancel error, and the session and
# server stay healthy. A statement_timeout during the build behaves the same way.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(verify_clean);
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('ivf_cancel');
$node->init;
$node->append_conf('postgresql.conf', "maintenance_work_mem = 256MB\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$node->safe_psql('postgres', q{CREATE TABLE big (id int, v vector(256))});
$node->safe_psql('postgres', q{INSERT INTO big SELECT i, (SELECT '[' || string_agg((random() * 10)::real::text, ',') || ']'
  FROM generate_series(1, 256) WHERE i > 0)::vector FROM generate_series(1, 20000) i});

my ($out, $err) = ('', '');
my $h = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
  "SET application_name = 'ivf_build'; CREATE INDEX big_ivf ON big USING ivfflat (v) WITH (lists = 2000)" ],
  '>', \$out, '2>', \$err);
ok($node->poll_query_until('postgres',
  q{SELECT phase = 'building index: performing k-means' FROM pg_stat_progress_create_index p
    JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ivf_build'}),
  'pg_stat_progress_create_index shows the k-means phase');
is($node->safe_psql('postgres', q{SELECT tuples_total FROM pg_stat_progress_create_index p
    JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ivf_build'}), '20000',
  'tuples_total is the number of rows to index');
usleep(300_000);
my $t0 = time();
$node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'ivf_build'});
$h->finish;
my $elapsed = time() - $t0;
like($err, qr/canceling statement due to user request/, 'the build was cancelled');
cmp_ok($elapsed, '<', 3, sprintf('cancel took effect quickly (%.2f s; bound 3 s for a loaded machine)', $elapsed));
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'big_ivf'}), '0', 'no index left behind');

# statement_timeout during k-means
$t0 = time();
my ($ret, $o, $e) = $node->psql('postgres',
  "SET statement_timeout = '1s'; CREATE INDEX big_ivf ON big USING ivfflat (v) WITH (lists = 2000)");
$elapsed = time() - $t0;
like($e, qr/canceling statement due to statement timeout/, 'statement_timeout stops the build');
cmp_ok($elapsed, '<', 4, sprintf('within a short time of the timeout (%.2f s)', $elapsed));

# The server is fine and a reasonable build still works.
$node->safe_psql('postgres', 'CREATE INDEX big_ivf ON big USING ivfflat (v) WITH (lists = 20)');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SELECT count(*) FROM
  (SELECT id FROM big ORDER BY v <-> (SELECT v FROM big WHERE id = 1) LIMIT 5) s}), '5', 'a later build works');
verify_clean($node, 'postgres', 'after the cancelled builds');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();
