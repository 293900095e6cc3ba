# Helpers shared by ragstore's TAP tests: reading the real data files (fvecs/ivecs) from the
# data directory and loading them into a node.
package RagstoreTest;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT_OK = qw(data_dir require_data read_fvecs read_ivecs vec_literal load_fvecs_table
                    recall_at_k verify_indexes verify_clean fault_seed wait_then top_ids top_dists
                    replica_same_ids);

# The data directory: $RAGSTORE_DATA_DIR, else <checkout>/../shared/data.
sub data_dir {
  return $ENV{RAGSTORE_DATA_DIR} if $ENV{RAGSTORE_DATA_DIR};
  my $root = $ENV{RAGSTORE_ROOT} || '.';
  return "$root/../shared/data";
}

sub _skip_missing_data {
  my ($path) = @_;
  Test::More::plan(skip_all => "data file $path not found: the real data sets (sift5k, mnist10k, "
    . 'ada002) are read from $RAGSTORE_DATA_DIR, default <checkout>/../shared/data');
}

# Skips the whole test file (plan skip_all: it passes, saying what is missing and where it was
# looked for) unless every file of @files (paths inside the data directory) is readable.
# Returns the data directory. For a file that runs tests before it reads its data; read_fvecs
# and read_ivecs skip by themselves when nothing has been tested yet.
sub require_data {
  my (@files) = @_;
  my $dir = data_dir();
  -r "$dir/$_" or _skip_missing_data("$dir/$_") for @files;
  return $dir;
}

# Opens a data file. A file of the data directory that is missing skips the test file when no
# test has run yet (else it dies: a file that tests first must call require_data first).
sub _open_data {
  my ($path) = @_;
  my $fh;
  return $fh if open($fh, '<:raw', $path);
  my $err = $!;
  my $dir = data_dir();
  my $builder = Test::More->builder;
  if (index($path, "$dir/") == 0 && !-e $path && $builder->current_test == 0 && !$builder->has_plan) {
    _skip_missing_data($path);
  }
  die "cannot open $path: $err" . (index($path, "$dir/") == 0 ? ' (data directory: set RAGSTORE_DATA_DIR)' : '');
}

# Reads an .fvecs file: returns an array ref of array refs of floats (at most $limit vectors).
sub read_fvecs {
  my ($path, $limit) = @_;
  my $fh = _open_data($path);
  my @out;
  while (!defined($limit) || @out < $limit) {
    my $n = read($fh, my $hdr, 4);
    last if !$n;
    my $d = unpack('l<', $hdr);
    read($fh, my $body, 4 * $d) == 4 * $d or die "truncated $path";
    push @out, [ unpack('f<*', $body) ];
  }
  close $fh;
  return \@out;
}

# Reads an .ivecs file: array ref of array refs of ints.
sub read_ivecs {
  my ($path, $limit) = @_;
  my $fh = _open_data($path);
  my @out;
  while (!defined($limit) || @out < $limit) {
    my $n = read($fh, my $hdr, 4);
    last if !$n;
    my $k = unpack('l<', $hdr);
    read($fh, my $body, 4 * $k) == 4 * $k or die "truncated $path";
    push @out, [ unpack('l<*', $body) ];
  }
  close $fh;
  return \@out;
}

# '[x,y,...]' with enough digits to read back the same float4.
sub vec_literal {
  my ($v) = @_;
  return '[' . join(',', map { sprintf('%.9g', $_) } @$v) . ']';
}

# Creates table $table (id int primary key, embedding vector($dim)) on $node and loads the
# vectors with COPY; ids are 0-based row numbers as in the ground truth files.
sub load_fvecs_table {
  my ($node, $dbname, $table, $vectors) = @_;
  my $dim = scalar @{ $vectors->[0] };
  $node->safe_psql($dbname, "CREATE TABLE $table (id int PRIMARY KEY, embedding vector($dim))");
  my $copy = "COPY $table (id, embedding) FROM STDIN;\n";
  for my $i (0 .. $#$vectors) {
    $copy .= "$i\t" . vec_literal($vectors->[$i]) . "\n";
  }
  $copy .= "\\.\n";
  $node->safe_psql($dbname, $copy);
}

# The ids of the 10 rows of $table nearest to each query (array ref of array refs of floats)
# by `embedding $op` (default <->), nearest first, with the sequential scan off and $settings
# (SQL run first, e.g. 'SET hnsw.ef_search = 100;'): one psql call for all queries. Returns an
# array ref of array refs of ids, one per query, for recall_at_k.
sub top_ids {
  my ($node, $dbname, $table, $queries, $settings, $op) = @_;
  return _top10($node, $dbname, $table, $queries, $settings, $op // '<->', 'id');
}

# A streaming replica returns the primary's ids in the primary's order through indexes built,
# filled, thinned and vacuumed after its base backup. Each case is [table, operator, the CREATE
# INDEX clause after "ON <table>"]: the table starts as the rows of $source with id < 128, gets
# its index, then the other rows, loses every 5th row (DELETE) and is vacuumed; once the replica
# has replayed it all, both nodes answer the first 20 of $queries (top 10 ids, after $settings).
# One is_deeply per case; the replica is verified (verify_clean) and stopped.
sub replica_same_ids {
  my ($node, $standby_name, $source, $queries, $settings, @cases) = @_;
  for my $case (@cases) {
    $node->safe_psql('postgres', "CREATE TABLE $case->[0] AS SELECT * FROM $source WHERE id < 128");
  }
  $node->backup("before_$standby_name");
  my $standby = PostgreSQL::Test::Cluster->new($standby_name);
  $standby->init_from_backup($node, "before_$standby_name", has_streaming => 1);
  $standby->start;
  $node->safe_psql('postgres', "CREATE INDEX ON $_->[0] $_->[2]") for @cases;
  for my $case (@cases) {
    my $t = $case->[0];
    $node->safe_psql('postgres', "INSERT INTO $t SELECT * FROM $source WHERE id >= 128");
    $node->safe_psql('postgres', "DELETE FROM $t WHERE id % 5 = 2");
    $node->safe_psql('postgres', "VACUUM $t");
  }
  $node->wait_for_catchup($standby, 'replay');
  my @rq = @$queries[ 0 .. 19 ];
  for my $case (@cases) {
    my ($t, $op) = @$case;
    my $p = top_ids($node, 'postgres', $t, \@rq, $settings, $op);
    my $s = top_ids($standby, 'postgres', $t, \@rq, $settings, $op);
    Test::More::is_deeply($s, $p, "replica returns the primary's ids in order ($t)");
  }
  verify_clean($standby, 'postgres', 'replica');
  $standby->stop;
}

# The same searches' distances (as the server prints them) instead of ids: two searches that
# agree up to the order of equally distant rows (ties, common on integer-valued data such as
# mnist's pixels) return the same lists.
sub top_dists {
  my ($node, $dbname, $table, $queries, $settings, $op) = @_;
  $op //= '<->';
  return _top10($node, $dbname, $table, $queries, $settings, $op, "embedding $op %s");
}

# $what: the column to report ('id'), or an expression with %s for the query literal.
sub _top10 {
  my ($node, $dbname, $table, $queries, $settings, $op, $what) = @_;
  my $sql = "SET enable_seqscan = off; $settings\n";
  for my $q (@$queries) {
    my $lit = "'" . vec_literal($q) . "'";
    my $col = $what =~ /%s/ ? sprintf($what, $lit) : $what;
    $sql .= "SELECT coalesce(string_agg(x::text, ',' ORDER BY n), '') FROM (SELECT x, row_number() OVER () n FROM "
      . "(SELECT $col AS x FROM $table ORDER BY embedding $op $lit LIMIT 10) s) s;\n";
  }
  my $out = $node->safe_psql($dbname, $sql);
  return [ map { [ split /,/, $_ ] } split /\n/, $out ];
}

# Mean recall@k of $results (array ref of array refs of ids) against $truth (ivecs rows).
sub recall_at_k {
  my ($results, $truth, $k) = @_;
  my ($hits, $total) = (0, 0);
  for my $q (0 .. $#$results) {
    my %want = map { $_ => 1 } @{ $truth->[$q] }[ 0 .. $k - 1 ];
    $hits += grep { $want{$_} } @{ $results->[$q] }[ 0 .. $k - 1 ];
    $total += $k;
  }
  return $total ? $hits / $total : 0;
}

# Runs ragstore.verify_index(index, heapallindexed => true) on every hnsw and ivfflat index of
# database $db on $node (a primary or a hot standby) and returns its problems, one line each
# ("index|block|item|heap_tid|problem|detail"), '' when every index is healthy. Also returns
# the number of indexes checked (so a test can assert that it checked something).
sub verify_indexes {
  my ($node, $db) = @_;
  my $out = $node->safe_psql($db, q{
    SELECT c.relname || '|' || coalesce(v.block::text, '') || '|' || coalesce(v.item::text, '') || '|'
           || coalesce(v.heap_tid::text, '') || '|' || v.problem || '|' || v.detail
    FROM pg_class c JOIN pg_am a ON a.oid = c.relam
         JOIN pg_index i ON i.indexrelid = c.oid AND i.indisvalid,
         LATERAL ragstore.verify_index(c.oid::regclass, true) v
    WHERE a.amname IN ('hnsw', 'ivfflat') ORDER BY 1});
  my $n = $node->safe_psql($db, q{
    SELECT count(*) FROM pg_class c JOIN pg_am a ON a.oid = c.relam
         JOIN pg_index i ON i.indexrelid = c.oid AND i.indisvalid
    WHERE a.amname IN ('hnsw', 'ivfflat')});
  return wantarray ? ($out, $n) : $out;
}

# Asserts (two Test::More tests) that database $db on $node has at least one hnsw or ivfflat
# index and that ragstore.verify_index(..., true) finds no problem in any of them.
sub verify_clean {
  my ($node, $db, $what) = @_;
  my ($problems, $n) = verify_indexes($node, $db);
  Test::More::cmp_ok($n, '>', 0, "$what: there are hnsw/ivfflat indexes to verify");
  Test::More::is($problems, '', "$what: verify_index(heapallindexed) finds no problem in $n indexes");
}

# Seeds Perl's rand for a fault test from $RAGSTORE_FAULT_SEED, else from a fresh random
# number, and notes the seed so that a failing run can be repeated.
sub fault_seed {
  my $seed = $ENV{RAGSTORE_FAULT_SEED} // int(rand(1_000_000));
  srand($seed);
  Test::More::note("random seed $seed (RAGSTORE_FAULT_SEED reproduces a run)");
  return $seed;
}

# Inside the server (no client start-up in between): waits until the SQL condition $cond
# holds (checked every 10 ms with fresh statistics, at most 60 s), sleeps $delay seconds, then
# runs $then (a query whose result is discarded; optional). Fault tests use it to land a fault
# at a chosen moment of a running statement.
sub wait_then {
  my ($node, $cond, $delay, $then) = @_;
  my $after = defined $then ? "PERFORM * FROM ($then) t;" : '';
  $node->safe_psql('postgres', qq{
    DO \$\$ BEGIN
      FOR i IN 1 .. 6000 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN ($cond);
        PERFORM pg_sleep(0.01);
      END LOOP;
      PERFORM pg_sleep($delay);
      $after
    END \$\$});
}

1;
