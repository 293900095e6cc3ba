# Helpers for ragstore's scale-out TAP tests (test/t/080-099): a PgBouncer (transaction
# pooling) in front of PostgreSQL::Test::Cluster nodes, pgbench runs with their per-script
# transaction counts, and comparing query results between a primary and its replicas.
package RagstoreScale;
use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
our @EXPORT_OK = qw(pgbouncer_bin start_pgbouncer stop_pgbouncer run_pgbench start_pgbench
                    finish_pgbench write_script
                    query_rows wait_for_replay os_user);

# The server's user name in TAP clusters (initdb's default: the OS user).
sub os_user { return scalar getpwuid($<); }

# PgBouncer is a required package (scripts/setup.sh): its absence is a failure, not a skip.
sub pgbouncer_bin {
  for my $p (grep { defined } $ENV{PGBOUNCER}, '/usr/sbin/pgbouncer', '/usr/bin/pgbouncer') {
    return $p if -x $p;
  }
  BAIL_OUT('pgbouncer is not installed (scripts/setup.sh installs it)');
}

# start_pgbouncer(databases => { name => $node | [$node, dbname] }, pool_size => 4, %extra_ini)
# Writes an ini into a temporary directory and starts PgBouncer (in the foreground, under
# IPC::Run) on a free loopback port, pool_mode = transaction, auth_type = trust. Returns a hash:
# { port, dir, handle, ini }. Dies when PgBouncer does not accept connections within 30 s.
sub start_pgbouncer {
  my (%p) = @_;
  my $dir  = PostgreSQL::Test::Utils::tempdir();
  my $port = PostgreSQL::Test::Cluster::get_free_port();
  my $user = os_user();
  my $pool = delete $p{pool_size} // 4;
  my $dbs  = delete $p{databases};
  open(my $uf, '>', "$dir/userlist.txt") or die $!;
  print $uf qq{"$user" ""\n};
  close $uf;
  my $ini = "[databases]\n";
  for my $name (sort keys %$dbs) {
    my ($node, $db) = ref($dbs->{$name}) eq 'ARRAY' ? @{ $dbs->{$name} } : ($dbs->{$name}, 'postgres');
    $ini .= sprintf("%s = host=%s port=%d dbname=%s\n", $name, $node->host, $node->port, $db);
  }
  my %settings = (
    listen_addr => '127.0.0.1', listen_port => $port, unix_socket_dir => '',
    auth_type => 'trust', auth_file => "$dir/userlist.txt", admin_users => $user,
    pool_mode => 'transaction', default_pool_size => $pool, max_client_conn => 200,
    logfile => "$dir/pgbouncer.log", ignore_startup_parameters => 'extra_float_digits',
    %p);
  $ini .= "[pgbouncer]\n" . join('', map { "$_ = $settings{$_}\n" } sort keys %settings);
  PostgreSQL::Test::Utils::append_to_file("$dir/pgbouncer.ini", $ini);
  my ($out, $err) = ('', '');
  my $h = IPC::Run::start([ pgbouncer_bin(), "$dir/pgbouncer.ini" ], '>', \$out, '2>', \$err);
  my $ok = 0;
  for (1 .. 300) {
    my $rc = system('psql', '-X', '-q', '-h', '127.0.0.1', '-p', $port, '-U', $user, '-d', 'pgbouncer',
                    '-c', 'SHOW VERSION', '-o', '/dev/null');
    if ($rc == 0) { $ok = 1; last; }
    select(undef, undef, undef, 0.1);
  }
  die "pgbouncer did not start:\n$out$err" . (-f "$dir/pgbouncer.log" ? slurp_file("$dir/pgbouncer.log") : '')
    unless $ok;
  note "pgbouncer listening on 127.0.0.1:$port";
  return { port => $port, dir => $dir, handle => $h, ini => "$dir/pgbouncer.ini", user => $user };
}

sub stop_pgbouncer {
  my ($b) = @_;
  $b->{handle}->signal('TERM');
  $b->{handle}->finish;
}

# write_script(name, text): a pgbench script file in a temporary directory; returns its path.
sub write_script {
  my ($name, $text) = @_;
  my $path = PostgreSQL::Test::Utils::tempdir() . "/$name.sql";
  PostgreSQL::Test::Utils::append_to_file($path, $text);
  return $path;
}

# start_pgbench(port => P, db => D, args => [...], scripts => [paths]): starts pgbench against
# 127.0.0.1:P (an -h in args overrides the host) in the background; finish_pgbench waits for it.
sub start_pgbench {
  my (%p) = @_;
  my @cmd = ('pgbench', '-n', '-h', '127.0.0.1', '-p', $p{port}, '-U', os_user(),
             @{ $p{args} }, map({ ('-f', $_) } @{ $p{scripts} }), $p{db});
  note join(' ', @cmd);
  my $run = { out => '', err => '' };
  $run->{handle} = IPC::Run::start(\@cmd, '>', \$run->{out}, '2>', \$run->{err},
                                   IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
  return $run;
}

# finish_pgbench($run): waits for a started pgbench and returns { rc, out, err,
# per_script => [transactions of script 1, 2, ...], total, failed }.
sub finish_pgbench {
  my ($run) = @_;
  $run->{handle}->finish;
  my ($out, $err) = @$run{qw(out err)};
  my $rc = $? >> 8;
  my @per = ($out =~ /^ - (\d+) transactions \(/mg);
  my ($total) = $out =~ /^number of transactions actually processed: (\d+)/m;
  my ($failed) = $out =~ /^number of failed transactions: (\d+)/m;
  return { rc => $rc, out => $out, err => $err, per_script => \@per, total => $total // 0,
           failed => $failed // 0 };
}

# run_pgbench(...): start_pgbench then finish_pgbench (same arguments and result).
sub run_pgbench { return finish_pgbench(start_pgbench(@_)); }

# query_rows($node, $db, $sql): the result as one string (rows joined by newlines), for exact
# comparison between nodes.
sub query_rows {
  my ($node, $db, $sql) = @_;
  return $node->safe_psql($db, $sql);
}

# wait_for_replay($primary, $standby): waits until the standby's pg_last_wal_replay_lsn() has
# passed the primary's current insert position (dies on timeout).
sub wait_for_replay {
  my ($primary, $standby) = @_;
  my $lsn = $primary->lsn('insert');
  $standby->poll_query_until('postgres', "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")
    or die "standby " . $standby->name . " did not replay up to $lsn";
}

1;
