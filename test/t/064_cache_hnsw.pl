# The semantic cache with the hnsw access method (skipped while hnsw is not installed): CREATE
# EXTENSION creates the partial cosine indexes per common dimension, cache_create_index adds
# one, cache_lookup's query uses the index of its dimension (EXPLAIN), and the answers match an
# exact scan on real ada-002 embeddings (exact repeats hit with distance 0; near questions find
# the same entry as the exact scan).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(data_dir require_data read_fvecs vec_literal verify_clean);

require_data('ada002/base.fvecs');

my $node = PostgreSQL::Test::Cluster->new('cache_hnsw');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
if ($node->safe_psql('postgres', q{SELECT count(*) FROM pg_am WHERE amname = 'hnsw'}) eq '0') {
  $node->stop;
  plan skip_all => 'the hnsw access method is not installed: cache lookups use an exact scan';
}
sub q1 { return $node->safe_psql('postgres', $_[0]); }

is(q1(q{SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) FROM pg_index
        WHERE indrelid = 'ragstore.cache_entries'::regclass AND indexrelid::regclass::text LIKE '%hnsw%'}),
   'ragstore.cache_entries_hnsw_1024,ragstore.cache_entries_hnsw_1536,ragstore.cache_entries_hnsw_384,ragstore.cache_entries_hnsw_768',
   'CREATE EXTENSION created the partial hnsw indexes');
is(q1(q{SELECT ragstore.cache_create_index(3)}), 'ragstore.cache_entries_hnsw_3', 'cache_create_index adds one');
is(q1(q{SELECT ragstore.cache_create_index(3)}), 'ragstore.cache_entries_hnsw_3', 'and is idempotent');

# real ada-002 embeddings: even rows stored, every row looked up
my $base = read_fvecs(data_dir() . '/ada002/base.fvecs');
my $copy = "COPY ragstore.cache_entries (model, prompt, embedding, response, expires_at) FROM STDIN;\n";
for my $i (grep { $_ % 2 == 0 } 0 .. $#$base) {
  $copy .= "ada\tprompt $i\t" . vec_literal($base->[$i]) . "\tanswer $i\t2100-01-01\n";
}
$node->safe_psql('postgres', $copy . "\\.\n");
q1('VACUUM ANALYZE ragstore.cache_entries');

my $q = vec_literal($base->[1]);
# (few rows: without these settings the planner rightly prefers a bitmap scan and a sort)
my $plan = q1(qq{SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; EXPLAIN (COSTS OFF) SELECT c.id FROM ragstore.cache_entries c
  WHERE c.dims = 1536 AND c.model = 'ada' AND c.tenant IS NULL AND c.user_id IS NULL AND c.expires_at > now()
  ORDER BY c.embedding::vector(1536) <=> '$q'::vector(1536) LIMIT 1});
like($plan, qr/Index Scan using cache_entries_hnsw_1536/, "cache_lookup's query uses the partial hnsw index")
  or diag(substr($plan, 0, 300));

my ($same, $total, $repeats) = (0, 0, 0);
for my $i (0 .. 59) {
  my $v = vec_literal($base->[$i]);
  my $idx = q1(qq{SET enable_seqscan = off; SELECT coalesce(string_agg(response, ''), 'miss') FROM ragstore.cache_lookup('$v', 'ada', max_distance => 0.2)});
  my $exact = q1(qq{SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT coalesce(string_agg(response, ''), 'miss') FROM ragstore.cache_lookup('$v', 'ada', max_distance => 0.2)});
  $total++;
  $same++ if $idx eq $exact;
  $repeats++ if $i % 2 == 0 && $idx eq "answer $i";
}
is($repeats, 30, 'every exact repeat hits its own entry through the index');
cmp_ok($same / $total, '>=', 0.95, "index answers match the exact scan ($same of $total)");
verify_clean($node, 'postgres', 'the cache indexes');

$node->stop;
done_testing();
