# The vector type on the real data: loading by binary COPY (scripts/vecfile.pl, exact float
# bits) and by text COPY (decimal literals) gives identical vectors; exact search has recall@10
# 1.0 against the shipped ground truth (ties broken by lower id) on sift5k (L2), mnist10k (L2,
# integer pixels: many exact ties) and ada002 (cosine); avg() equals the mean computed here in
# double, serial and parallel alike.
use strict;
use warnings;
use Cwd qw(abs_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(data_dir read_fvecs read_ivecs load_fvecs_table recall_at_k);

my $data = data_dir();
plan skip_all => "real data not found in $data" unless -r "$data/sift5k/base.fvecs";

my $vecfile = abs_path('scripts/vecfile.pl');
my $node = PostgreSQL::Test::Cluster->new('vector_real');
$node->init;
$node->append_conf('postgresql.conf', "max_parallel_workers_per_gather = 2\nmax_worker_processes = 8");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

# Binary COPY through the fvecs converter, run by the server (COPY FROM PROGRAM, superuser).
sub load_binary {
  my ($table, $file, $limit) = @_;
  my $dim = scalar @{ read_fvecs($file, 1)->[0] };
  $limit //= '';
  $node->safe_psql('postgres', qq{
    CREATE TABLE $table (id int PRIMARY KEY, embedding vector($dim));
    COPY $table FROM PROGRAM 'perl $vecfile fvecs-copy $file $limit' WITH (FORMAT binary);
    ANALYZE $table;});
}

# recall@10 of exact search: for each query row, ORDER BY distance, id LIMIT 10.
sub exact_recall {
  my ($base, $queries, $op, $truth) = @_;
  my $out = $node->safe_psql('postgres', qq{
    SELECT array_to_string(ARRAY(SELECT b.id FROM $base b ORDER BY b.embedding $op q.embedding, b.id LIMIT 10), ',')
      FROM $queries q ORDER BY q.id});
  my @results = map { [ split /,/ ] } split /\n/, $out;
  is(scalar @results, scalar @$truth, "$base: one result per query");
  return recall_at_k(\@results, $truth, 10);
}

# ---- sift5k: binary and text loading agree bit for bit
my $sift = read_fvecs("$data/sift5k/base.fvecs");
load_binary('sift_bin', "$data/sift5k/base.fvecs");
load_fvecs_table($node, 'postgres', 'sift_txt', $sift);
is($node->safe_psql('postgres', q{
  SELECT count(*) FROM sift_bin b JOIN sift_txt t USING (id)
   WHERE b.embedding = t.embedding AND vector_send(b.embedding) = vector_send(t.embedding)}),
  '5000', 'sift5k: binary COPY and text COPY give the same 5000 vectors');
is($node->safe_psql('postgres', 'SELECT embedding FROM sift_bin WHERE id = 0'),
  '[' . join(',', map { $_ + 0 } @{ $sift->[0] }) . ']', 'sift5k: row 0 reads back as in the file');

load_binary('sift_q', "$data/sift5k/query.fvecs");
my $sift_truth = read_ivecs("$data/sift5k/groundtruth_l2.ivecs");
is(exact_recall('sift_bin', 'sift_q', '<->', $sift_truth), 1, 'sift5k: exact L2 search has recall@10 1.0');

# ---- avg(): the mean in double, rounded once to float4, serial and parallel
my @sum = (0) x 128;
for my $v (@$sift) { $sum[$_] += $v->[$_] for 0 .. 127 }
my $mean = '[' . join(',', map { unpack('f', pack('f', $_ / 5000)) } @sum) . ']';
my $serial = $node->safe_psql('postgres', 'SET max_parallel_workers_per_gather = 0; SELECT avg(embedding)::real[]::float8[] FROM sift_bin');
my @got = $serial =~ /([-0-9.e+]+)/g;
my @want = map { unpack('f', pack('f', $_ / 5000)) } @sum;
is_deeply([ map { $_ + 0 } @got ], [ map { $_ + 0 } @want ], 'sift5k: avg() is the double mean rounded to float4');
my $parallel = $node->safe_psql('postgres', q{
  SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
  SELECT avg(embedding)::real[]::float8[] FROM sift_bin});
is($parallel, $serial, 'sift5k: parallel avg() equals serial avg()');
like($node->safe_psql('postgres', q{
  SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
  EXPLAIN (COSTS OFF) SELECT avg(embedding) FROM sift_bin}), qr/Partial Aggregate/, 'the parallel plan aggregates partially');

# ---- mnist10k: integer pixels, so distances are exact and ties common (the lower id wins)
SKIP: {
  skip 'mnist10k not present', 2 unless -r "$data/mnist10k/base.fvecs";
  load_binary('mnist', "$data/mnist10k/base.fvecs");
  load_binary('mnist_q', "$data/mnist10k/query.fvecs", 20);
  my $truth = read_ivecs("$data/mnist10k/groundtruth_l2.ivecs", 20);
  is(exact_recall('mnist', 'mnist_q', '<->', $truth), 1, 'mnist10k: exact L2 search has recall@10 1.0 (20 queries)');
}

# ---- ada002: cosine, self-query; unit vectors, so <#> orders as <=> does
SKIP: {
  skip 'ada002 not present', 3 unless -r "$data/ada002/base.fvecs";
  load_binary('ada', "$data/ada002/base.fvecs");
  my $truth = read_ivecs("$data/ada002/groundtruth_cosine_selfquery.ivecs");
  is(exact_recall('ada', 'ada', '<=>', $truth), 1, 'ada002: exact cosine search has recall@10 1.0');
  is(exact_recall('ada', 'ada', '<#>', $truth), 1, 'ada002: inner product orders unit vectors as cosine');
}

$node->stop;
done_testing();
