# pg_dump of a database with ragstore includes the log (default partition, partitions created
# later with their rows and indexes), the cache, the rollups, the settings and the sequences'
# positions; restoring into a fresh database (where the dump's CREATE EXTENSION runs the
# extension script) gives the same rows, and logging, lookups and maintenance keep working.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION ragstore;
  SELECT count(*) FROM ragstore.create_partitions();
  SELECT ragstore.log_interaction(request_model => 'gpt-4o', user_id => 'u' || g, input_tokens => g,
           cost => g / 1000.0, prompt => 'prompt ' || g, response => 'answer ' || g,
           prompt_embedding => ('[' || g || ',1]')::vector, tags => ARRAY['t' || g],
           started_at => now() - (g % 3) * interval '1 day')
    FROM generate_series(1, 30) g;
  SELECT ragstore.log_interaction(request_model => 'old', started_at => '2003-03-03 03:03+00');
  SELECT ragstore.cache_store('p' || g, ('[1,' || g || ',0]')::vector, 'r' || g, 'gpt-4o', tenant => 't')
    FROM generate_series(1, 5) g;
  INSERT INTO ragstore.settings VALUES ('retention', '7300 days');
  SELECT ragstore.refresh_usage_daily();
  SELECT ragstore.log_interaction(request_model => 'pending', started_at => '2030-01-01 00:00+00');});

my %queries = (
  log      => q{SELECT string_agg(i::text, E'\n' ORDER BY id) FROM ragstore.interactions i},
  where    => q{SELECT string_agg(tableoid::regclass || ':' || id, ',' ORDER BY id) FROM ragstore.interactions},
  cache    => q{SELECT string_agg(c::text, E'\n' ORDER BY id) FROM ragstore.cache_entries c},
  rollup   => q{SELECT string_agg(u::text, E'\n' ORDER BY day, request_model, user_id) FROM (SELECT day, tenant, user_id, request_model, calls, input_tokens, cost FROM ragstore.usage_daily) u},
  dirty    => q{SELECT string_agg(day::text, ',' ORDER BY day) FROM ragstore.usage_dirty_days},
  settings => q{SELECT string_agg(name || '=' || value, ',' ORDER BY name) FROM ragstore.effective_settings},
  indexes  => q{SELECT count(*) FROM pg_indexes WHERE schemaname = 'ragstore' AND tablename LIKE 'interactions%'},
);
my %before = map { $_ => $node->safe_psql('postgres', $queries{$_}) } keys %queries;
like($before{where}, qr/interactions_default:\d+.*interactions_p/s, 'rows in the default partition and in partitions');

my $dump = $node->basedir . '/dump.sql';
$node->command_ok([ 'pg_dump', '-h', $node->host, '-p', $node->port, '-f', $dump, 'postgres' ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port,
                    '-d', 'restored', '-f', $dump ], 'restore into a fresh database (no error)');
for my $k (sort keys %queries) {
  is($node->safe_psql('restored', $queries{$k}), $before{$k}, "restored $k identical");
}

# it keeps working: ids continue after the restored ones, lookups hit, maintenance runs
my $max = $node->safe_psql('postgres', 'SELECT max(id) FROM ragstore.interactions');
cmp_ok($node->safe_psql('restored', q{SELECT ragstore.log_interaction(request_model => 'after')}), '>', $max,
       'new ids continue after the restored ones');
cmp_ok($node->safe_psql('restored', q{SELECT ragstore.cache_store('new', '[0,0,1]', 'x', 'gpt-4o')}), '>', 5,
       'new cache ids continue after the restored ones');
is($node->safe_psql('restored', q{SELECT response FROM ragstore.cache_lookup('[1,3,0]', 'gpt-4o', tenant => 't')}),
   'r3', 'cache lookup on the restored cache');
my $m = $node->safe_psql('restored', 'SELECT ragstore.run_maintenance()');
like($m, qr/"days_refreshed": 2/, 'maintenance runs after restore (pending day and today refreshed)');
is($node->safe_psql('restored', q{SELECT count(*) FROM ragstore.interactions_default}), '0', 'default partition emptied after restore');
is($node->safe_psql('restored', q{SELECT count(*) FROM ragstore.interactions}), $node->safe_psql('postgres', q{SELECT count(*) + 1 FROM ragstore.interactions}),
   'all rows there');
my ($ret, $out, $err) = $node->psql('restored', q{UPDATE ragstore.interactions SET cost = 0});
like($err, qr/append-only/, 'the restored log is still append-only');

$node->stop;
done_testing();
