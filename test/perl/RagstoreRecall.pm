# Helpers of ragstore's hnsw recall TAP tests per operator class and path (test/t/025, 028):
# the same 10,000 rows indexed along each path (CREATE INDEX without and with build threads, a
# build that spills out of maintenance_work_mem, concurrent INSERTs into an indexed table, and
# VACUUM after a DELETE), each compared with one exact answer per query computed once.
package RagstoreRecall;
use strict;
use warnings;
use Exporter 'import';
use Test::More;
our @EXPORT_OK = qw(recall_queries exact_ids index_recall build_on_path drop_path opclass_paths
                    vacuum_geometry);

# The LIMIT of every recall query (pgvector's recall tests use 20).
our $limit = 20;

# 20 query literals for $type with $dim components uniform in [0, 1) (bit: 52-bit numbers).
sub recall_queries {
  my ($type, $dim) = @_;
  my @q;
  for (1 .. 20) {
    if ($type eq 'bit') {
      push @q, int(rand() * 2**$dim) . "::bigint::bit($dim)";
      next;
    }
    my @x = map { rand() } 1 .. $dim;
    if ($type eq 'sparsevec') {
      push @q, "'{" . join(',', map { ($_ + 1) . ":$x[$_]" } 0 .. $#x) . "}/$dim'";
    } else {
      push @q, "'[" . join(',', @x) . "]'";
    }
  }
  return \@q;
}

# The exact answer of each query against $table by `v $op q` (sequential scan): an array ref
# of hash refs of ids. With $ties every row at the 20th distance or closer counts (pgvector's bit
# tests: Hamming distances are small integers, so the 20th is usually shared by many rows).
sub exact_ids {
  my ($node, $table, $op, $queries, $ties) = @_;
  my $sql = "SET enable_indexscan = off; SET enable_bitmapscan = off;\n";
  for my $q (@$queries) {
    $sql .= $ties
      ? "SELECT coalesce(string_agg(i::text, ','), '') FROM $table WHERE v $op $q <= "
        . "(SELECT max(d) FROM (SELECT v $op $q AS d FROM $table ORDER BY 1 LIMIT $limit) s);\n"
      : "SELECT string_agg(i::text, ',') FROM (SELECT i FROM $table ORDER BY v $op $q LIMIT $limit) s;\n";
  }
  return [ map { { map { $_ => 1 } split /,/ } } split /\n/, $node->safe_psql('postgres', $sql) ];
}

# Recall of the index scan of $table (which must be used: checked on the first query) against
# $exact: the share of the 20 rows returned per query that are in the exact answer, over all
# queries. $settings is SQL run first (e.g. 'SET hnsw.ef_search = 100;').
sub index_recall {
  my ($node, $table, $op, $queries, $exact, $settings) = @_;
  $settings //= '';
  my $plan = $node->safe_psql('postgres',
    "SET enable_seqscan = off; $settings EXPLAIN (COSTS OFF) SELECT i FROM $table ORDER BY v $op $queries->[0] LIMIT $limit");
  die "not an hnsw index scan: $plan" unless $plan =~ /Index Scan using \S+_v_idx/;
  my $sql = "SET enable_seqscan = off; $settings\n";
  $sql .= "SELECT coalesce(string_agg(i::text, ','), '') FROM (SELECT i FROM $table ORDER BY v $op $_ LIMIT $limit) s;\n"
    for @$queries;
  my @got = split /\n/, $node->safe_psql('postgres', $sql);
  my $hits = 0;
  for my $k (0 .. $#$queries) {
    $hits += grep { $exact->[$k]{$_} } split /,/, ($got[$k] // '');
  }
  return $hits / ($limit * @$queries);
}

# Indexes the rows of $base (i int4 PRIMARY KEY, v) with `USING hnsw (v $opclass) $with` along
# $path and returns the name of the indexed table ($base itself for builds; a new table filled
# by 4 concurrent pgbench clients for 'insert'). Each build path checks that it ran as named
# (parallel workers used; the graph spilled out of maintenance_work_mem). Drop the index (or
# the table) with drop_path.
sub build_on_path {
  my ($node, $base, $opclass, $path, $with) = @_;
  $with //= '';
  my $index = "CREATE INDEX ${base}_v_idx ON $base USING hnsw (v $opclass) $with";
  if ($path eq 'serial') {
    $node->safe_psql('postgres', "SET max_parallel_maintenance_workers = 0; $index");
  } elsif ($path eq 'parallel') {
    my ($ret, $out, $err) = $node->psql('postgres', "SET maintenance_work_mem = '64MB';
      SET min_parallel_table_scan_size = 1; SET client_min_messages = debug1; $index");
    is($ret, 0, "$base $opclass parallel: build");
    like($err, qr/using \d+ parallel workers/, "$base $opclass parallel: build threads used");
  } elsif ($path eq 'spill') {
    my ($ret, $out, $err) = $node->psql('postgres', "SET maintenance_work_mem = '1MB'; $index");
    is($ret, 0, "$base $opclass spill: build");
    like($err, qr/hnsw graph no longer fits into maintenance_work_mem after [1-9]\d* tuples/,
      "$base $opclass spill: part in memory, the rest inserted");
  } elsif ($path eq 'insert') {
    my $t = "${base}_ins";
    $node->safe_psql('postgres', "CREATE TABLE $t (LIKE $base); CREATE INDEX ${t}_v_idx ON $t USING hnsw (v $opclass) $with;
      CREATE SEQUENCE ${t}_seq");
    # every row of $base exactly once, by 4 clients at a time (pgvector's insert tests use 10)
    my $n = $node->safe_psql('postgres', "SELECT count(*) FROM $base");
    $node->pgbench("--no-vacuum --client=4 --jobs=2 --transactions=" . int(($n + 3) / 4), 0,
      [qr/actually processed/], [qr/^$/], "$base $opclass insert: concurrent INSERTs",
      { "insert_${t}_$opclass" => "INSERT INTO $t SELECT * FROM $base WHERE i = (SELECT nextval('${t}_seq'));" });
    is($node->safe_psql('postgres', "SELECT count(*) FROM $t"), $n, "$base $opclass insert: every row inserted once");
    return $t;
  } else {
    die "unknown path $path";
  }
  return $base;
}

sub drop_path {
  my ($node, $base, $table) = @_;
  $node->safe_psql('postgres', $table eq $base ? "DROP INDEX ${base}_v_idx" : "DROP TABLE $table; DROP SEQUENCE ${table}_seq");
}

# Every path for one operator class of $base (10,000 rows, i int4 PRIMARY KEY, v): serial,
# parallel and spilling builds and concurrent inserts, each at least $min; then on the inserted
# table, DELETE of every 5th row and VACUUM, at least $min against the remaining rows.
# $op: the class's ordering operator; %o: ties (bit), settings (e.g. ef_search). Notes the
# recall of each path.
sub opclass_paths {
  my ($node, $base, $opclass, $op, $queries, $min, %o) = @_;
  my $exact = exact_ids($node, $base, $op, $queries, $o{ties});
  for my $path ('serial', 'parallel', 'spill', 'insert') {
    my $t = build_on_path($node, $base, $opclass, $path);
    my $r = index_recall($node, $t, $op, $queries, $exact, $o{settings});
    note sprintf('%s %s %s: recall@%d %.4f', $base, $opclass, $path, $limit, $r);
    cmp_ok($r, '>=', $min, "$base $opclass $path: recall >= $min");
    if ($path eq 'insert') {
      $node->safe_psql('postgres', "DELETE FROM $t WHERE i % 5 = 0; VACUUM $t");
      my $after = exact_ids($node, $t, $op, $queries, $o{ties});
      $r = index_recall($node, $t, $op, $queries, $after, $o{settings});
      note sprintf('%s %s vacuum (20%% deleted): recall@%d %.4f', $base, $opclass, $limit, $r);
      cmp_ok($r, '>=', $min, "$base $opclass after DELETE + VACUUM: recall >= $min");
    }
    drop_path($node, $base, $t);
  }
}

# pgvector's VACUUM recall geometry: $table gets 10,000 rows of $expr (i in 1..10,000), an
# index `USING hnsw (v $opclass) WITH (m = 4, ef_construction = 8)`, then every row with
# i > 2500 is deleted. Recall is measured at each [label, ef_search, minimum] of @$before,
# then after VACUUM at each of @$after.
sub vacuum_geometry {
  my ($node, $table, $decl, $expr, $opclass, $op, $queries, $before, $after, %o) = @_;
  $node->safe_psql('postgres', "SELECT setseed(0.5); CREATE TABLE $table (i int4 PRIMARY KEY, v $decl);
    INSERT INTO $table SELECT i, $expr FROM generate_series(1, 10000) i;
    CREATE INDEX ${table}_v_idx ON $table USING hnsw (v $opclass) WITH (m = 4, ef_construction = 8);
    DELETE FROM $table WHERE i > 2500");
  my $exact = exact_ids($node, $table, $op, $queries, $o{ties});
  for my $stage ([ 'before VACUUM', $before ], [ 'after VACUUM', $after ]) {
    $node->safe_psql('postgres', "VACUUM $table") if $stage->[0] eq 'after VACUUM';
    for my $check (@{ $stage->[1] }) {
      my ($ef, $min) = @$check;
      my $r = index_recall($node, $table, $op, $queries, $exact, "SET hnsw.ef_search = $ef;");
      note sprintf('%s %s m 4, 75%% deleted, %s, ef_search %d: recall@%d %.4f', $table, $opclass,
        $stage->[0], $ef, $limit, $r);
      cmp_ok($r, '>=', $min, "$table $opclass m 4, 75% deleted, $stage->[0], ef_search $ef: recall >= $min");
    }
  }
  $node->safe_psql('postgres', "DROP TABLE $table");
}

1;
