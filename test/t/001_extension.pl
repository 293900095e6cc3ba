# The extension's life cycle on a fresh cluster: CREATE EXTENSION installs every object,
# DROP EXTENSION removes them all, and it can be created again; a C++ failure inside the
# guard leaves the backend alive.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lifecycle');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
my $n_objects = $node->safe_psql('postgres',
  q{SELECT count(*) FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
    WHERE e.extname = 'ragstore' AND d.deptype = 'e'});
cmp_ok($n_objects, '>', 10, "extension owns its objects ($n_objects)");
is($node->safe_psql('postgres', q{SELECT '[1,2]'::vector <-> '[4,6]'}), '5', 'vector works');

$node->safe_psql('postgres', 'DROP EXTENSION ragstore');
is($node->safe_psql('postgres',
  q{SELECT count(*) FROM pg_type WHERE typname = 'vector'}), '0', 'type gone after DROP');
is($node->safe_psql('postgres',
  q{SELECT count(*) FROM pg_namespace WHERE nspname = 'ragstore'}), '0', 'schema gone after DROP');
is($node->safe_psql('postgres',
  q{SELECT count(*) FROM pg_proc WHERE prosrc LIKE '%ragstore%' OR probin LIKE '%ragstore%'}),
  '0', 'no function left behind');

$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
my ($ret, $out, $err) = $node->psql('postgres',
  q{SET ragstore.debug_functions = on; SELECT ragstore.debug_throw('bad_alloc');});
like($err, qr/out of memory/, 'C++ bad_alloc surfaces as an SQL error');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()}),
  '1', 'server still accepts queries');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');

$node->stop;
done_testing();
