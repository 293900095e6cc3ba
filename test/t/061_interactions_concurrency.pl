# 8 sessions logging concurrently lose no row, directly and through PgBouncer (transaction
# pooling, a pool of 3 server connections); rollup refreshes running at the same time miss no
# row (the dirty-day queue commits with the rows); ids are unique.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreScale qw(start_pgbouncer stop_pgbouncer run_pgbench start_pgbench finish_pgbench
                     write_script);

my $node = PostgreSQL::Test::Cluster->new('concurrent_log');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$node->safe_psql('postgres', 'SELECT count(*) FROM ragstore.create_partitions()');
sub q1 { return $node->safe_psql('postgres', $_[0]); }

my $log = write_script('log', <<'SQL');
\set u random(1, 50)
\set d random(0, 2)
SELECT ragstore.log_interaction(request_model => 'm' || (:u % 3), user_id => 'u' || :u,
       started_at => now() - :d * interval '1 day', input_tokens => 10, output_tokens => :client_id,
       duration_ms => (:u * 3)::double precision, cost => 0.001, cache_outcome => 'miss',
       prompt => 'client ' || :client_id, metadata => jsonb_build_object('client', (:client_id)::int));
SQL
my $refresh = write_script('refresh', "SELECT ragstore.refresh_usage_daily();\n");

# Runs the logging pgbench with a second pgbench refreshing the rollups at the same time. The
# two are separate runs, so the logging run's transaction count is exactly the number of
# log_interaction calls (pgbench's per-script split of a mixed run can attribute a transaction
# to the wrong script).
sub log_while_refreshing {
  my (%p) = @_;
  my $refreshing = start_pgbench(port => $p{port}, db => $p{db}, scripts => [$refresh],
                                 args => [ @{ $p{host_args} }, '-c', '1', '-t', '30',
                                           '-M', 'extended' ]);
  my $run = run_pgbench(port => $p{port}, db => $p{db}, scripts => [$log],
                        args => [ @{ $p{host_args} }, @{ $p{args} } ]);
  my $refreshed = finish_pgbench($refreshing);
  is($refreshed->{rc}, 0, "concurrent rollup refreshes ($p{label})") or diag($refreshed->{err});
  return $run;
}

my $direct = log_while_refreshing(port => $node->port, db => 'postgres', label => 'direct',
                                  host_args => [ '-h', $node->host ],
                                  args => [ '-c', '8', '-j', '2', '-t', '150', '-M', 'extended' ]);
is($direct->{rc}, 0, 'pgbench direct: 8 clients') or diag($direct->{err});
is($direct->{failed}, 0, 'no failed transaction');
my $want = $direct->{total};
is($want, 8 * 150, "log transactions: $want");
is(q1(q{SELECT count(*) FROM ragstore.interactions}), $want, 'every logged call is in the log');

my $bouncer = start_pgbouncer(databases => { app => $node }, pool_size => 3);
my $pooled = log_while_refreshing(port => $bouncer->{port}, db => 'app', label => 'PgBouncer',
                                  host_args => [],
                                  args => [ '-c', '8', '-j', '2', '-t', '100', '-M', 'extended' ]);
is($pooled->{rc}, 0, 'pgbench through PgBouncer (transaction pooling): 8 clients') or diag($pooled->{err});
is($pooled->{failed}, 0, 'no failed transaction through PgBouncer');
is($pooled->{total}, 8 * 100, 'every pooled transaction processed');
$want += $pooled->{total};
is(q1(q{SELECT count(*) FROM ragstore.interactions}), $want, 'every call logged through PgBouncer is in the log');
is(q1(q{SELECT count(DISTINCT id) FROM ragstore.interactions}), $want, 'ids are unique');
my $simple = run_pgbench(port => $bouncer->{port}, db => 'app',
                         args => [ '-c', '8', '-j', '2', '-t', '20', '-M', 'simple' ], scripts => [ $log ]);
is($simple->{rc}, 0, 'pgbench -M simple through PgBouncer') or diag($simple->{err});
$want += 160;
stop_pgbouncer($bouncer);

q1(q{SELECT ragstore.refresh_usage_daily()});
is(q1(q{SELECT sum(calls) FROM ragstore.usage_daily}), $want, 'the rollups count every row despite concurrent refreshes');
is(q1(q{SELECT sum(input_tokens) FROM ragstore.usage_daily}), 10 * $want, 'token sums match');
is(q1(q{SELECT count(*) FROM ragstore.usage_dirty_days}), '0', 'nothing left to refresh');

$node->stop;
done_testing();
