# The interaction log's partitions: a row for a time without a partition is accepted (default
# partition) and later moved into its own partition, with nothing lost or changed, even while
# other sessions keep logging into those days and create the same partitions concurrently;
# retention drops only partitions wholly older than `retention` and clears only content older
# than `content_retention`, and the rollups of dropped days stay.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreScale qw(write_script);

my $node = PostgreSQL::Test::Cluster->new('partitions');
$node->init;
$node->append_conf('postgresql.conf', "deadlock_timeout = 200ms\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
sub q1 { return $node->safe_psql('postgres', $_[0]); }

# ---- a row without a partition lands in the default partition, then moves
q1(q{SELECT ragstore.log_interaction(request_model => 'late', started_at => '2001-02-03 04:05:06+00',
       input_tokens => 11, metadata => '{"k": 1}')});
q1(q{SELECT ragstore.log_interaction(request_model => 'future', started_at => now() + interval '45 days',
       output_tokens => 22, tags => ARRAY['x'])});
is(q1(q{SELECT count(*) FROM ragstore.interactions_default}), '2', 'rows without a partition are accepted (default partition)');
my $before = q1(q{SELECT i::text FROM ragstore.interactions i ORDER BY id});
my $m = q1(q{SELECT ragstore.run_maintenance()->>'rows_moved'});
is($m, '2', 'run_maintenance reports 2 rows moved');
is(q1(q{SELECT count(*) FROM ragstore.interactions_default}), '0', 'default partition empty afterwards');
is(q1(q{SELECT i::text FROM ragstore.interactions i ORDER BY id}), $before, 'moved rows are unchanged');
is(q1(q{SELECT string_agg(tableoid::regclass::text, ',' ORDER BY id) FROM ragstore.interactions}),
   'ragstore.interactions_p20010203,ragstore.interactions_p'
     . q1(q{SELECT to_char((now() + interval '45 days') AT TIME ZONE 'UTC', 'YYYYMMDD')}),
   'each row is in the partition of its day');
is(q1(q{SELECT count(*) FROM ragstore.interaction_partitions() WHERE range_start >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        AND range_start <= now() + interval '7 days'}), '8', 'partitions created ahead: today and partitions_ahead = 7 more')
  or diag(q1(q{SELECT string_agg(partition::text, ' ') FROM ragstore.interaction_partitions()}));

# ---- concurrent logging into days without partitions while partitions for them are created
my $log = write_script('log_2040', <<'SQL');
\set d random(0, 9)
SELECT ragstore.log_interaction(request_model => 'conc', started_at => '2040-01-01 12:00+00'::timestamptz + :d * interval '1 day',
       input_tokens => :client_id, user_id => 'c' || :client_id);
SQL
my $create = write_script('create_2040', <<'SQL');
\set d random(0, 9)
SELECT count(*) FROM ragstore.create_partitions('2040-01-01 12:00+00'::timestamptz + :d * interval '1 day',
                                                '2040-01-01 12:00+00'::timestamptz + :d * interval '1 day');
SQL
$node->command_ok([ 'pgbench', '-n', '-c', '4', '-j', '2', '-t', '150', '-h', $node->host, '-p', $node->port,
                    '-f', "$log\@20", '-f', "$create\@1", 'postgres' ],
                  'pgbench: 4 clients logging into 10 unpartitioned days while creating their partitions');
my $n_log = q1(q{SELECT count(*) FROM ragstore.interactions WHERE request_model = 'conc'});
q1(q{SELECT ragstore.run_maintenance()});
is(q1(q{SELECT count(*) FROM ragstore.interactions_default}), '0', 'default partition emptied by run_maintenance');
is(q1(q{SELECT count(*) FROM ragstore.interactions WHERE request_model = 'conc'}), $n_log, 'no row lost by the moves');
cmp_ok($n_log, '>', 500, "most of the 600 transactions were log rows ($n_log)");
is(q1(q{SELECT count(*) FROM ragstore.interaction_partitions() WHERE range_start >= '2040-01-01' AND range_start < '2040-01-11'}),
   '10', 'one partition per day, created exactly once');
is(q1(q{SELECT count(*) FROM ragstore.interactions WHERE request_model = 'conc'
        AND tableoid <> 'ragstore.interactions_default'::regclass}), $n_log, 'every row in its partition');
unlike(slurp_file($node->logfile), qr/deadlock detected/, 'no deadlock');

# ---- retention: ages -100, -95, -60, -35, -10 and 0 days
for my $age (100, 95, 60, 35, 10, 0) {
  q1(qq{SELECT count(*) FROM ragstore.create_partitions(now() - interval '$age days', now() - interval '$age days')});
  q1(qq{SELECT ragstore.log_interaction(request_model => 'ret', started_at => now() - interval '$age days',
          input_tokens => $age, prompt => 'prompt $age', response => 'answer $age', prompt_embedding => '[1,2]',
          metadata => '{"age": $age}')});
}
q1(q{SELECT ragstore.refresh_usage_daily()});
q1(q{INSERT INTO ragstore.settings VALUES ('retention', '90 days'), ('content_retention', '30 days')});
my $ret = q1(q{SELECT cardinality(dropped_partitions) || ' ' || cleared_rows FROM ragstore.apply_retention()});
# -100 and -95 are dropped (2001-02-03 went in the run_maintenance above); -60 and -35 are
# cleared: they were logged late, after the content watermark had passed them
is($ret, '2 2', 'apply_retention dropped 2 partitions and cleared 2 rows');
is(q1(q{SELECT count(*) FROM ragstore.interaction_partitions() WHERE range_start < '2002-01-01'}), '0',
   'the 2001 partition was dropped by the earlier run_maintenance');
is(q1(q{SELECT string_agg((metadata->>'age') || ':' || coalesce(prompt, '-') || ':' || coalesce(response, '-') || ':'
                          || coalesce(prompt_embedding::text, '-'), ' ' ORDER BY started_at)
        FROM ragstore.interactions WHERE request_model = 'ret'}),
   '60:-:-:- 35:-:-:- 10:prompt 10:answer 10:[1,2] 0:prompt 0:answer 0:[1,2]',
   'rows older than 90 days gone, content older than 30 days cleared, the rest intact');
is(q1(q{SELECT count(*) FROM ragstore.interaction_partitions() WHERE range_end <= now() - interval '90 days'}), '0',
   'no partition wholly older than the retention remains');
is(q1(q{SELECT string_agg(input_tokens::text, ',' ORDER BY day) FROM ragstore.usage_daily WHERE request_model = 'ret'}),
   '100,95,60,35,10,0', 'rollups of the dropped days remain');
is(q1(q{SELECT count(*) FROM ragstore.interactions WHERE request_model = 'ret' AND metadata ? 'age'}), '4',
   'metadata of cleared rows kept');

$node->stop;
done_testing();
