# Roles, with real logins: an application logging as a member of ragstore_writer, a dashboard
# as a member of ragstore_reader (rollups and metadata, never prompt or response content), an
# auditor reading content; CREATE EXTENSION in a second database of the same cluster works with
# the roles already there.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('roles');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION ragstore;
  CREATE ROLE app LOGIN IN ROLE ragstore_writer;
  CREATE ROLE dashboard LOGIN IN ROLE ragstore_reader;
  CREATE ROLE audit LOGIN IN ROLE ragstore_auditor;});

sub as {
  my ($user, $sql) = @_;
  my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', $user ]);
  return ($ret, $out, $err);
}

my ($ret, $out, $err) = as('app', q{SELECT ragstore.log_interaction(request_model => 'gpt-4o', user_id => 'u1',
    prompt => 'my secret prompt', response => 'my secret answer', input_tokens => 5) > 0});
is($out, 't', 'writer logs a call with content') or diag($err);
($ret, $out, $err) = as('app', q{SELECT ragstore.cache_store('my secret prompt', '[1,2,3]', 'my secret answer', 'gpt-4o') > 0;
                                  SELECT response FROM ragstore.cache_lookup('[1,2,3]', 'gpt-4o')});
is($out, "t\nmy secret answer", 'writer stores and looks up cache entries') or diag($err);
($ret, $out, $err) = as('app', q{SELECT prompt FROM ragstore.interactions});
like($err, qr/permission denied/, 'writer cannot read logged content');
$node->safe_psql('postgres', 'SELECT ragstore.refresh_usage_daily()');

($ret, $out, $err) = as('dashboard', q{SELECT calls, input_tokens FROM ragstore.usage_daily});
is($out, '1|5', 'reader reads the rollup') or diag($err);
($ret, $out, $err) = as('dashboard', q{SELECT request_model, user_id FROM ragstore.interactions_metadata});
is($out, 'gpt-4o|u1', 'reader reads log metadata') or diag($err);
for my $sql ('SELECT prompt FROM ragstore.interactions', 'SELECT response FROM ragstore.interactions',
             'SELECT * FROM ragstore.interactions', 'SELECT prompt_embedding FROM ragstore.interactions',
             'SELECT prompt FROM ragstore.interactions_default',
             q{SELECT prompt FROM ragstore.interactions_p} . $node->safe_psql('postgres', q{SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')}),
             'SELECT response FROM ragstore.cache_entries', 'SELECT prompt FROM ragstore.cache_entries',
             q{SELECT * FROM ragstore.cache_lookup('[1,2,3]', 'gpt-4o')}) {
  ($ret, $out, $err) = as('dashboard', $sql);
  isnt($ret, 0, "reader refused: $sql");
  unlike($out, qr/secret/, "no content leaked: $sql");
}
# the partition of today exists only after maintenance; make sure the direct-partition check
# above ran against a real partition
$node->safe_psql('postgres', 'SELECT ragstore.run_maintenance()');
($ret, $out, $err) = as('dashboard', q{SELECT prompt FROM ragstore.interactions_p}
  . $node->safe_psql('postgres', q{SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')}));
like($err, qr/permission denied for table interactions_p/, 'reader cannot read a partition directly');

($ret, $out, $err) = as('audit', q{SELECT prompt, response FROM ragstore.interactions});
is($out, 'my secret prompt|my secret answer', 'auditor reads content') or diag($err);
($ret, $out, $err) = as('audit', q{SELECT calls FROM ragstore.usage_daily});
is($out, '1', 'auditor is also a reader');

# nobody but the owner changes the schema
for my $user ('app', 'dashboard', 'audit') {
  ($ret, $out, $err) = as($user, 'CREATE TABLE ragstore.x (i int)');
  like($err, qr/permission denied for schema ragstore/, "$user cannot create in the schema");
  ($ret, $out, $err) = as($user, 'DROP TABLE ragstore.usage_daily');
  like($err, qr/must be owner/, "$user cannot drop the rollup");
}

# a second database: the roles exist already, CREATE EXTENSION still works and grants to them
$node->safe_psql('postgres', 'CREATE DATABASE second');
$node->safe_psql('second', 'CREATE EXTENSION ragstore');
($ret, $out, $err) = $node->psql('second', q{SELECT ragstore.log_interaction(request_model => 'm') > 0},
                                 extra_params => [ '-U', 'app' ]);
is($out, 't', 'writer logs in the second database') or diag($err);
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname LIKE 'ragstore\_%'}), '3', 'roles not duplicated');

$node->stop;
done_testing();
