# The settings pgvector users tune before CREATE INDEX take effect in hnsw and ivfflat builds.
#
# 1. Parallelism: with client_min_messages = debug1 a build says `using N parallel workers`
#    (pgvector's message) where N follows PostgreSQL's choice for the table, as pgvector's:
#    hnsw takes max_parallel_maintenance_workers (or the table's parallel_workers, capped by
#    it) whenever plan_create_index_workers() allows a parallel build at all; ivfflat takes
#    plan_create_index_workers()'s own count, which grows with the table's pages (one worker,
#    plus one per tripling past min_parallel_table_scan_size) and keeps 32 MB of
#    maintenance_work_mem per participant. Both are capped by max_parallel_workers and
#    ragstore.max_threads (set to 8 here, so the counts are the planner's, not this machine's
#    CPUs). The expected ivfflat counts are computed here from the table's size with that rule.
#    A build that ignored the settings (a fixed thread count) fails most cases; one that
#    followed them for one access method only fails the other's.
# 2. Builds on 1, 3 and 8 threads give equivalent indexes: recall@10 on sift5k (real data,
#    shipped ground truth) at ef_search 100 within 0.03 of the single-threaded build and
#    >= 0.94 for hnsw (one thread: 0.967; eight threads on two busy CPUs: 0.950-0.967, the
#    first insertions race on a small graph), within 0.02 and >= 0.85 for ivfflat (20 lists,
#    8 probes: 0.931 on any thread count). A graph whose parallel insertion lost links falls
#    far below.
# 3. maintenance_work_mem: the hnsw NOTICE `hnsw graph no longer fits into maintenance_work_mem
#    after N tuples` appears exactly at the in-memory graph's real limit: with N rows no NOTICE,
#    with N + 1 rows the NOTICE names N; N lies between 0.6 and 1.0 times what the raw vectors
#    and layer-0 links alone would allow (a denser graph than pgvector's, whose elements take
#    about twice that; the build also keeps each link's distance, 4 bytes per link slot). `after 0 tuples` when not even one element fits (the working memory of
#    32 threads at ef_construction 1000 is more than 1 MB), and every row is still indexed.
#    After the NOTICE the build finishes on disk with the same recall as an in-memory build.
#    ivfflat (pgvector raises an error where its k-means does not fit in maintenance_work_mem;
#    we sample less and load the lists in several passes): in 1 MB the NOTICE `ivfflat index
#    rows do not fit in maintenance_work_mem` and the same query results as in 256 MB.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(data_dir require_data read_fvecs read_ivecs vec_literal load_fvecs_table recall_at_k top_ids);

# (part 2 reads sift5k after part 1 has run tests: without it the file skips from the start)
require_data(map { "sift5k/$_" } qw(base.fvecs query.fvecs groundtruth_l2.ivecs));

my $node = PostgreSQL::Test::Cluster->new('build_parallel');
$node->init;
$node->append_conf('postgresql.conf',
  "maintenance_work_mem = 256MB\nshared_buffers = 128MB\nmax_parallel_workers = 8\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

# Runs $settings then CREATE INDEX $name ON $table ($using) at debug1 and drops the index;
# returns the number in `using N parallel workers` (0 when the build says nothing) and stderr.
sub build_workers {
  my ($settings, $table, $using) = @_;
  my ($ret, $out, $err) = $node->psql('postgres',
    "SET client_min_messages = debug1; SET ragstore.max_threads = 8; $settings\n"
      . "CREATE INDEX probe_idx ON $table USING $using;\nRESET client_min_messages;\n"
      . "DROP INDEX probe_idx;");
  is($ret, 0, "build on $table succeeds ($settings)") or diag($err);
  my @n = $err =~ /using (\d+) parallel workers/g;
  ok(@n <= 1, 'the parallel workers are reported once');
  return (@n ? $n[0] : 0, $err);
}

# plan_create_index_workers() for a table of $pages pages with min_parallel_table_scan_size
# $min_pages, max_parallel_maintenance_workers $max and maintenance_work_mem $mem_mb (MB), no
# parallel_workers reloption: PostgreSQL's rule, written out independently.
sub planner_workers {
  my ($pages, $min_pages, $max, $mem_mb) = @_;
  return 0 if $max == 0 || $pages < $min_pages;
  my ($workers, $threshold) = (1, $min_pages > 1 ? $min_pages : 1);
  while ($pages >= $threshold * 3) { $workers++; $threshold *= 3; }
  $workers = $max if $workers > $max;
  $workers-- while $workers > 0 && $mem_mb * 1024 / ($workers + 1) < 32768;
  return $workers;
}

# ---- 1. worker counts, on 6,000 random rows of vector(32)
$node->safe_psql('postgres', q{
  SELECT setseed(0.27);
  CREATE TABLE cnt (id int, v vector(32));
  INSERT INTO cnt SELECT i, (SELECT array_agg(random()) FROM generate_series(1, 32) WHERE i > 0)::vector
    FROM generate_series(1, 6000) i;
});
my $pages = $node->safe_psql('postgres', "SELECT pg_relation_size('cnt') / current_setting('block_size')::int");
note "cnt: $pages pages";
cmp_ok($pages, '<', 1024, 'cnt is smaller than the default min_parallel_table_scan_size (8 MB)');
cmp_ok($pages, '>=', 81, 'cnt is large enough for ivfflat to plan 5 or more workers');
my $hnsw = 'hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32)';
my $ivf = 'ivfflat (v vector_l2_ops) WITH (lists = 10)';
my $any = 'SET min_parallel_table_scan_size = 0;';

my @cases = (
  # [settings, hnsw workers, ivfflat workers, what]
  ['', 0, 0, 'defaults on a table below min_parallel_table_scan_size'],
  ["$any SET max_parallel_maintenance_workers = 0;", 0, 0, 'max_parallel_maintenance_workers = 0'],
  ["$any SET max_parallel_maintenance_workers = 2;", 2, planner_workers($pages, 1, 2, 256),
   'max_parallel_maintenance_workers = 2'],
  ["$any SET max_parallel_maintenance_workers = 7;", 7, planner_workers($pages, 1, 7, 256),
   'max_parallel_maintenance_workers = 7'],
  ["$any SET max_parallel_maintenance_workers = 7; SET maintenance_work_mem = '64MB';", 7,
   planner_workers($pages, 1, 7, 64), 'maintenance_work_mem 64MB leaves ivfflat one worker'],
  ["$any SET max_parallel_maintenance_workers = 7; SET maintenance_work_mem = '32MB';", 0, 0,
   'maintenance_work_mem 32MB: no parallel build'],
  ["SET max_parallel_maintenance_workers = 7; SET min_parallel_table_scan_size = '8kB';", 7,
   planner_workers($pages, 1, 7, 256), 'min_parallel_table_scan_size of one page'],
  ["SET max_parallel_maintenance_workers = 7; SET min_parallel_table_scan_size = '$pages' ;", 7,
   planner_workers($pages, $pages, 7, 256), 'min_parallel_table_scan_size = the table'],
  ["SET max_parallel_maintenance_workers = 7; SET min_parallel_table_scan_size = '" . ($pages + 1) . "';",
   0, 0, 'min_parallel_table_scan_size one page over the table'],
  ["$any SET max_parallel_maintenance_workers = 7; SET ragstore.max_threads = 3;", 2, 2,
   'ragstore.max_threads = 3 caps at 2 workers'],
  ["$any SET max_parallel_maintenance_workers = 7; SET max_parallel_workers = 1;", 1, 1,
   'max_parallel_workers = 1 caps at 1 worker'],
  ["$any SET max_parallel_maintenance_workers = 7; SET ragstore.max_threads = 1;", 0, 0,
   'ragstore.max_threads = 1: one thread'],
);
cmp_ok($cases[3][2], '>=', 5, 'ivfflat plans at least 5 workers for cnt');
for my $c (@cases) {
  my ($settings, $want_hnsw, $want_ivf, $what) = @$c;
  my ($n) = build_workers($settings, 'cnt', $hnsw);
  is($n, $want_hnsw, "hnsw: $what: using $want_hnsw parallel workers");
  ($n) = build_workers($settings, 'cnt', $ivf);
  is($n, $want_ivf, "ivfflat: $what: using $want_ivf parallel workers");
}

# The table's parallel_workers: taken as is (capped by max_parallel_maintenance_workers), for
# tables of any size; 0 turns parallel builds off.
for my $c ([3, 7, 3], [5, 2, 2], [0, 7, 0]) {
  my ($reloption, $max, $want) = @$c;
  $node->safe_psql('postgres', "ALTER TABLE cnt SET (parallel_workers = $reloption)");
  my $set = "SET max_parallel_maintenance_workers = $max;";
  my ($n) = build_workers($set, 'cnt', $hnsw);
  is($n, $want, "hnsw: parallel_workers = $reloption, max $max: using $want parallel workers");
  ($n) = build_workers($set, 'cnt', $ivf);
  is($n, $want, "ivfflat: parallel_workers = $reloption, max $max: using $want parallel workers");
}
$node->safe_psql('postgres', 'ALTER TABLE cnt RESET (parallel_workers)');

# A temporary table is never built in parallel (PostgreSQL's rule: workers cannot read it).
my ($ret, $out, $err) = $node->psql('postgres', qq{
  SET client_min_messages = debug1; SET ragstore.max_threads = 8; $any
  SET max_parallel_maintenance_workers = 7;
  CREATE TEMP TABLE tmp_cnt AS SELECT * FROM cnt;
  CREATE INDEX ON tmp_cnt USING $hnsw;
  CREATE INDEX ON tmp_cnt USING $ivf;
});
is($ret, 0, 'builds on a temporary table succeed');
unlike($err, qr/parallel workers/, 'a temporary table is built without parallel workers');

# ---- 2. the same index whatever the thread count (sift5k)
my $dir = data_dir();
my $base = read_fvecs("$dir/sift5k/base.fvecs");
my $queries = read_fvecs("$dir/sift5k/query.fvecs");
my $truth = read_ivecs("$dir/sift5k/groundtruth_l2.ivecs");
load_fvecs_table($node, 'postgres', 'sift', $base);

sub search {
  my ($set) = @_;
  return top_ids($node, 'postgres', 'sift', $queries, $set);
}

for my $am (['hnsw', 'hnsw (embedding vector_l2_ops)', 'SET hnsw.ef_search = 100;', 0.94, 0.03],
            ['ivfflat', 'ivfflat (embedding vector_l2_ops) WITH (lists = 20)', 'SET ivfflat.probes = 8;', 0.85, 0.02]) {
  my ($name, $using, $search_set, $floor, $tolerance) = @$am;
  my $single;
  for my $workers (0, 2, 7) {
    my ($r2, $o2, $e2) = $node->psql('postgres', qq{
      SET client_min_messages = debug1; SET ragstore.max_threads = 8; $any
      SET max_parallel_maintenance_workers = $workers;
      ALTER TABLE sift SET (parallel_workers = $workers);
      CREATE INDEX sift_idx ON sift USING $using;
    });
    is($r2, 0, "$name sift5k build with $workers workers succeeds");
    if ($workers > 0) {
      like($e2, qr/using $workers parallel workers/, "$name sift5k build reports $workers workers");
    } else {
      unlike($e2, qr/parallel workers/, "$name sift5k build with 0 workers reports none");
    }
    my $r = recall_at_k(search($search_set), $truth, 10);
    note sprintf('%s sift5k, %d workers: recall@10 %.4f', $name, $workers, $r);
    cmp_ok($r, '>=', $floor, "$name sift5k, $workers workers: recall@10 >= $floor");
    $single = $r if $workers == 0;
    cmp_ok(abs($r - $single), '<=', $tolerance, "$name sift5k, $workers workers: recall within $tolerance of one thread");
    $node->safe_psql('postgres', 'DROP INDEX sift_idx');
  }
}
$node->safe_psql('postgres', 'ALTER TABLE sift RESET (parallel_workers)');

# ---- 3. maintenance_work_mem: the NOTICE at the real limit
my $notice = qr/hnsw graph no longer fits into maintenance_work_mem after (\d+) tuples/;
$node->safe_psql('postgres', q{
  SELECT setseed(0.61);
  CREATE TABLE lim (id int, v vector(64));
  INSERT INTO lim SELECT i, (SELECT array_agg(random()) FROM generate_series(1, 64) WHERE i > 0)::vector
    FROM generate_series(1, 3000) i;
});
my $small = "SET maintenance_work_mem = '1MB'; SET max_parallel_maintenance_workers = 0;";
(undef, $err) = build_workers($small, 'lim', 'hnsw (v vector_l2_ops)');
my ($limit) = $err =~ $notice;
ok(defined $limit, '3,000 x vector(64) in 1 MB: the NOTICE');
$limit //= 0;
my $raw = int(1024 * 1024 / (4 * 64 + 4 * 2 * 16));
note "limit: $limit elements; vectors and layer-0 links alone: $raw";
cmp_ok($limit, '<=', $raw, 'the limit is no more than vectors and links alone allow');
cmp_ok($limit, '>=', int(0.6 * $raw), 'the limit is at least 0.6 of that (a dense graph)');
for my $extra (0, 1) {
  my $rows = $limit + $extra;
  $node->safe_psql('postgres', "CREATE TABLE lim_$extra AS SELECT * FROM lim WHERE id <= $rows");
  (undef, $err) = build_workers($small, "lim_$extra", 'hnsw (v vector_l2_ops)');
  if ($extra == 0) {
    unlike($err, $notice, "$rows rows fit: no NOTICE");
    like($err, qr/hnsw graph of $rows vector elements built in memory/, "$rows rows built in memory");
  } else {
    like($err, qr/no longer fits into maintenance_work_mem after $limit tuples/, "$rows rows: NOTICE after $limit tuples");
  }
}

# after 0 tuples: 32 threads' working memory at ef_construction 1000 does not fit in 1 MB; the
# rows are inserted on disk, and every one can be found. With 2 threads it fits.
$node->safe_psql('postgres', q{
  CREATE TABLE zero (id int, v vector(3));
  INSERT INTO zero SELECT i, format('[%s,%s,%s]', i % 17, i % 23, i / 10)::vector FROM generate_series(1, 300) i;
});
my $threads = "SET maintenance_work_mem = '1MB'; SET max_parallel_workers = 64; SET ragstore.max_threads = 64;"
  . " SET max_parallel_maintenance_workers = 64;";
$node->safe_psql('postgres', 'ALTER TABLE zero SET (parallel_workers = 31)');
($ret, $out, $err) = $node->psql('postgres', qq{
  SET client_min_messages = debug1; $threads
  CREATE INDEX zero_idx ON zero USING hnsw (v vector_l2_ops) WITH (ef_construction = 1000);
});
is($ret, 0, 'build that fits not one element succeeds');
like($err, qr/using 31 parallel workers/, 'planned for 31 workers');
like($err, qr/hnsw graph no longer fits into maintenance_work_mem after 0 tuples/, 'NOTICE after 0 tuples');
is($node->safe_psql('postgres', q{
  SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order; SET hnsw.max_scan_tuples = 100000;
  SELECT count(*) FROM (SELECT id FROM zero ORDER BY v <-> '[8,11,15]' LIMIT 1000) s}), '300',
  'every row of the on-disk build is found');
is($node->safe_psql('postgres', q{
  SET enable_seqscan = off;
  SELECT id FROM zero ORDER BY v <-> (SELECT v FROM zero WHERE id = 123) LIMIT 1}), '123',
  'the on-disk build finds a row itself');
$node->safe_psql('postgres', 'DROP INDEX zero_idx; ALTER TABLE zero SET (parallel_workers = 1)');
($ret, $out, $err) = $node->psql('postgres', qq{
  SET client_min_messages = debug1; $threads
  CREATE INDEX zero_idx ON zero USING hnsw (v vector_l2_ops) WITH (ef_construction = 1000);
});
is($ret, 0, 'the same build on 2 threads succeeds');
unlike($err, $notice, 'on 2 threads it fits: no NOTICE');

# After the NOTICE: the rest is inserted on disk, with the recall of an in-memory build.
my $mem_recall;
for my $mem ('256MB', '3MB') {
  ($ret, $out, $err) = $node->psql('postgres', qq{
    SET maintenance_work_mem = '$mem'; SET max_parallel_maintenance_workers = 0;
    CREATE INDEX sift_idx ON sift USING hnsw (embedding vector_l2_ops);
  });
  is($ret, 0, "sift5k build in $mem succeeds");
  my $r = recall_at_k(search('SET hnsw.ef_search = 100;'), $truth, 10);
  note sprintf('sift5k hnsw in %s: recall@10 %.4f', $mem, $r);
  if ($mem eq '3MB') {
    like($err, $notice, 'sift5k in 3 MB: the NOTICE');
    cmp_ok(abs($r - $mem_recall), '<=', 0.02, 'recall after the NOTICE within 0.02 of the in-memory build');
  } else {
    unlike($err, $notice, 'sift5k in 256 MB: no NOTICE');
    $mem_recall = $r;
  }
  is($node->safe_psql('postgres', "SELECT reltuples::int FROM pg_class WHERE relname = 'sift_idx'"), '5000',
    "sift5k in $mem: all 5,000 rows indexed");
  $node->safe_psql('postgres', 'DROP INDEX sift_idx');
}

# ivfflat in 1 MB: the rows (5,000 x 530 bytes) do not fit: a NOTICE, several passes over the
# table, and the very same index (same sample, same centroids, same lists) as in 256 MB.
my %ivf_results;
for my $mem ('256MB', '1MB') {
  ($ret, $out, $err) = $node->psql('postgres', qq{
    SET maintenance_work_mem = '$mem'; SET max_parallel_maintenance_workers = 0;
    CREATE INDEX sift_idx ON sift USING ivfflat (embedding vector_l2_ops) WITH (lists = 20);
  });
  is($ret, 0, "ivfflat sift5k build in $mem succeeds");
  if ($mem eq '1MB') {
    like($err, qr/ivfflat index rows do not fit in maintenance_work_mem/, 'ivfflat in 1 MB: the NOTICE');
    like($err, qr/Loading the lists in \d+ passes over the table/, 'ivfflat in 1 MB: several passes');
  } else {
    unlike($err, qr/do not fit/, 'ivfflat in 256 MB: no NOTICE');
  }
  $ivf_results{$mem} = join(';', map { join(',', @$_) } @{ search('SET ivfflat.probes = 8;') });
  $node->safe_psql('postgres', 'DROP INDEX sift_idx');
}
is($ivf_results{'1MB'}, $ivf_results{'256MB'}, 'ivfflat built in passes returns the same rows');

$node->stop;
done_testing();
