# The demo's stand-in data (scripts/vecfile.pl generate, used when the real data is absent):
# deterministic, and exact search in the database agrees with the ground truth computed in Perl,
# including on ties (integer coordinates 0..7 make many equal L2 distances: the lower id must
# win, as the ground truth and ORDER BY distance, id both say). Needs no data directory.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(read_ivecs recall_at_k);

my $vecfile = abs_path('scripts/vecfile.pl');
my $dir = tempdir(CLEANUP => 1);
system('perl', $vecfile, 'generate', "$dir/a") == 0 or die 'generate failed';
system('perl', $vecfile, 'generate', "$dir/b") == 0 or die 'generate failed';
for my $f ('gen_l2/base.fvecs', 'gen_l2/query.fvecs', 'gen_l2/groundtruth_l2.ivecs',
           'gen_cosine/base.fvecs', 'gen_cosine/groundtruth_cosine_selfquery.ivecs') {
  is(slurp_file("$dir/a/$f"), slurp_file("$dir/b/$f"), "generate is deterministic: $f");
}

my $node = PostgreSQL::Test::Cluster->new('vector_generated');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
for my $t (['l2_base', 'gen_l2/base.fvecs', 64], ['l2_query', 'gen_l2/query.fvecs', 64],
           ['cos_base', 'gen_cosine/base.fvecs', 256]) {
  my ($table, $file, $dim) = @$t;
  $node->safe_psql('postgres', qq{
    CREATE TABLE $table (id int PRIMARY KEY, embedding vector($dim));
    COPY $table FROM PROGRAM 'perl $vecfile fvecs-copy $dir/a/$file' WITH (FORMAT binary);});
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM l2_base'), '2000', 'generated l2 base loaded');

# Ties are common: the test is only meaningful if they reach the top 10.
my $ties = $node->safe_psql('postgres', q{
  SELECT count(*) FROM l2_query q, LATERAL (
    SELECT d FROM (SELECT b.embedding <-> q.embedding AS d FROM l2_base b
                    ORDER BY 1 LIMIT 11) s GROUP BY d HAVING count(*) > 1) t});
cmp_ok($ties, '>', 10, "the generated L2 data has ties within the top 11 ($ties)");

sub exact_recall {
  my ($base, $queries, $op, $truth) = @_;
  my $out = $node->safe_psql('postgres', qq{
    SELECT array_to_string(ARRAY(SELECT b.id FROM $base b ORDER BY b.embedding $op q.embedding, b.id LIMIT 10), ',')
      FROM $queries q ORDER BY q.id});
  return recall_at_k([ map { [ split /,/ ] } split /\n/, $out ], $truth, 10);
}
is(exact_recall('l2_base', 'l2_query', '<->', read_ivecs("$dir/a/gen_l2/groundtruth_l2.ivecs")), 1,
   'generated l2: exact search matches the Perl ground truth, ties by lower id');
is(exact_recall('cos_base', 'cos_base', '<=>', read_ivecs("$dir/a/gen_cosine/groundtruth_cosine_selfquery.ivecs")), 1,
   'generated cosine: exact search matches the Perl ground truth');

$node->stop;
done_testing();
