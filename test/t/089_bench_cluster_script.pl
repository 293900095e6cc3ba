# bench/cluster, the documented one-command scale-out cluster: `start` brings up a primary,
# a streaming replica (own replication slot, hot_standby_feedback) and PgBouncer; writes through
# the read-write PgBouncer database reach the replica and are read through the read-only one;
# `stop` stops every process it started; a second `start` reuses the cluster.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreScale qw(os_user);

my $root = $ENV{RAGSTORE_ROOT} && -x "$ENV{RAGSTORE_ROOT}/bench/cluster" ? $ENV{RAGSTORE_ROOT} : '.';
# run from the TAP copy of the checkout (the current directory), which this user may write to
my $script = -x './bench/cluster' ? './bench/cluster' : "$root/bench/cluster";
my $dir = PostgreSQL::Test::Utils::tempdir_short() . '/sc';

# a primary port P with P+1 free too, and a PgBouncer port
# (get_free_port hands out increasing free ports and reserves them)
my ($port, $bport, $next);
$next = PostgreSQL::Test::Cluster::get_free_port();
for (1 .. 50) {
  $port = $next;
  $next = PostgreSQL::Test::Cluster::get_free_port();
  last if $next == $port + 1;
}
die "no two consecutive free ports" unless $next == $port + 1;
$bport = PostgreSQL::Test::Cluster::get_free_port();
my @opts = ('--dir', $dir, '--replicas', 1, '--port', $port, '--bouncer-port', $bport, '--pool-size', 2);
my $user = os_user();

sub sh {
  my (@cmd) = @_;
  my ($out, $err) = ('', '');
  IPC::Run::run(\@cmd, '>', \$out, '2>', \$err, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
  return ($? >> 8, $out, $err);
}
sub psql_at {
  my ($p, $db, $sql) = @_;
  my ($rc, $out, $err) = sh('psql', '-X', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', $p,
                            '-U', $user, '-d', $db, '-c', $sql);
  chomp $out;
  return $rc == 0 ? $out : "ERROR: $err";
}

my ($rc, $out, $err) = sh('bash', $script, 'start', '--no-setup', @opts);
is($rc, 0, 'bench/cluster start succeeds') or diag($err);

is(psql_at($port, 'ragstore', 'SELECT pg_is_in_recovery()'), 'f', 'primary is read-write');
is(psql_at($port + 1, 'ragstore', 'SELECT pg_is_in_recovery()'), 't', 'replica is in recovery');
is(psql_at($port, 'postgres', q{SELECT slot_name || ' ' || slot_type || ' ' || active FROM pg_replication_slots}),
   'replica1 physical true', 'the replica streams through its physical slot');
is(psql_at($port + 1, 'ragstore', 'SHOW hot_standby_feedback'), 'on', 'hot_standby_feedback on the replica');
is(psql_at($port + 1, 'ragstore', q{SELECT extname FROM pg_extension WHERE extname = 'ragstore'}),
   'ragstore', 'the extension is on the replica');

is(psql_at($bport, 'ragstore_rw', 'SELECT inet_server_port()'), $port, 'PgBouncer ragstore_rw -> primary');
is(psql_at($bport, 'ragstore_ro', 'SELECT inet_server_port()'), $port + 1, 'PgBouncer ragstore_ro -> replica');
is(psql_at($bport, 'ragstore', 'SELECT 1') =~ /ERROR/ ? 'refused' : 'accepted', 'refused',
   'no other database behind PgBouncer');

psql_at($bport, 'ragstore_rw', q{CREATE TABLE t (id int PRIMARY KEY, v vector(3));
                                  INSERT INTO t SELECT i, format('[%s,%s,%s]', i, i * 2, -i)::vector FROM generate_series(1, 100) i});
my $lsn = psql_at($port, 'postgres', 'SELECT pg_current_wal_insert_lsn()');
my $caught = 0;
for (1 .. 300) {
  if (psql_at($port + 1, 'postgres', "SELECT pg_last_wal_replay_lsn() >= '$lsn'") eq 't') { $caught = 1; last; }
  select(undef, undef, undef, 0.1);
}
ok($caught, 'replica replays the writes');
is(psql_at($bport, 'ragstore_ro', q{SELECT string_agg(id::text, ',') FROM
                                     (SELECT id FROM t ORDER BY v <-> '[10,20,-10]' LIMIT 3) s}),
   '10,9,11', 'search through ragstore_ro sees the rows written through ragstore_rw');
like(psql_at($bport, 'ragstore_ro', 'INSERT INTO t VALUES (0, NULL)'), qr/read-only transaction/,
     'ragstore_ro refuses writes');

($rc, $out, $err) = sh('bash', $script, 'env', '--dir', $dir);
like($out, qr/SCALE_READ=.*target_session_attrs=prefer-standby/, 'env prints a prefer-standby connection string');

($rc, $out, $err) = sh('bash', $script, 'stop', '--dir', $dir);
is($rc, 0, 'bench/cluster stop succeeds');
like(psql_at($port, 'postgres', 'SELECT 1'), qr/ERROR/, 'primary stopped');
like(psql_at($port + 1, 'postgres', 'SELECT 1'), qr/ERROR/, 'replica stopped');
like(psql_at($bport, 'ragstore_rw', 'SELECT 1'), qr/ERROR/, 'PgBouncer stopped');

# start again: the same cluster comes back (settings remembered in cluster.env)
($rc, $out, $err) = sh('bash', $script, 'start', '--no-setup', '--dir', $dir);
is($rc, 0, 'second start succeeds') or diag($err);
is(psql_at($bport, 'ragstore_ro', 'SELECT count(*) FROM t'), '100', 'data kept across stop/start');
($rc, $out, $err) = sh('bash', $script, 'destroy', '--dir', $dir);
is($rc, 0, 'destroy succeeds');
ok(!-d "$dir/primary", 'cluster directory removed');

done_testing();
