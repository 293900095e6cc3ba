# ivfflat build progress and cancellation: a long build (20,000 x 256 random rows into 2,000
# lists: k-means alone takes many seconds) reports its phase in pg_stat_progress_create_index;
# pg_cancel_backend during k-means stops it inside k-means (FAISS's interrupt callback reads
# PostgreSQL's pending-cancel flag; without it the build would only notice the cancel after
# k-means), the error is the usual cancel error, and the session and server stay healthy. A
# statement_timeout during the build behaves the same way. Nothing here is timed: the build's
# DEBUG1 messages say which steps finished ("sampled ...", then "k-means (...)" only when k-means
# ran to its end), so the checks are on events, not on how long they took.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(verify_clean);
use IPC::Run;

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
  "SET application_name = 'ivf_build'; SET client_min_messages = debug1; "
  . "CREATE INDEX big_ivf ON big USING ivfflat (v) WITH (lists = 2000)" ],
  '>', \$out, '2>', \$err);
ok($node->poll_query_until('postgres',
  q{SELECT phase = 'building index: performing k-means' FROM pg_stat_progress_create_index p
    JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ivf_build'}),
  'pg_stat_progress_create_index shows the k-means phase');
is($node->safe_psql('postgres', q{SELECT tuples_total FROM pg_stat_progress_create_index p
    JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ivf_build'}), '20000',
  'tuples_total is the number of rows to index');
$node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'ivf_build'});
$h->finish;
like($err, qr/canceling statement due to user request/, 'the build was cancelled');
like($err, qr/ivfflat build: sampled \d+ of 20000 rows/, 'the build reported its sampling (its DEBUG1 messages reach the client)');
unlike($err, qr/ivfflat build: k-means \(/, 'the cancel took effect inside k-means: k-means never finished');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'big_ivf'}), '0', 'no index left behind');

# statement_timeout: it stops the build before k-means finishes (in sampling when the machine is
# slow enough, else inside k-means)
my ($ret, $o, $e) = $node->psql('postgres',
  "SET client_min_messages = debug1; SET statement_timeout = '1s'; "
  . "CREATE INDEX big_ivf ON big USING ivfflat (v) WITH (lists = 2000)");
like($e, qr/canceling statement due to statement timeout/, 'statement_timeout stops the build');
unlike($e, qr/ivfflat build: k-means \(/, 'before k-means finished');

# The server is fine and a reasonable build still works (and says when its k-means finished).
($ret, $o, $e) = $node->psql('postgres',
  'SET client_min_messages = debug1; CREATE INDEX big_ivf ON big USING ivfflat (v) WITH (lists = 20)');
is($ret, 0, 'a later build succeeds');
like($e, qr/ivfflat build: k-means \(20 lists/, 'a finished k-means is reported');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SELECT count(*) FROM
  (SELECT id FROM big ORDER BY v <-> (SELECT v FROM big WHERE id = 1) LIMIT 5) s}), '5', 'a later build works');
verify_clean($node, 'postgres', 'after the cancelled builds');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();
