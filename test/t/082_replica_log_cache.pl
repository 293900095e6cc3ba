# The interaction log and the semantic cache on a streaming replica: log rows, the daily
# rollup and cache entries written on the primary replicate; ragstore.cache_lookup runs on the
# replica (it only reads) and answers exactly as the primary does; writes (log_interaction,
# cache_store) are refused there with SQLSTATE 25006 (read-only transaction).
# Embeddings: the real text-embedding-ada-002 vectors of ../shared/data/ada002.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(data_dir read_fvecs vec_literal verify_clean);
use RagstoreScale qw(wait_for_replay);

my $primary = PostgreSQL::Test::Cluster->new('log_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_buffers = 32MB\nmax_connections = 20\nlog_statement = none\nhot_standby_feedback = on\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('log_standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;

my $emb = read_fvecs(data_dir() . '/ada002/base.fvecs');
my $n_cached = 100;    # embeddings 0..99 are cached; 100..199 are not
cmp_ok(scalar @$emb, '>=', 200, 'ada002 embeddings available');

# Log rows: three models, known token counts and costs.
$primary->safe_psql('postgres', q{
  SELECT count(ragstore.log_interaction(
           request_model => (ARRAY['gpt-4o-mini', 'gpt-4o', 'claude-3-5-sonnet'])[1 + i % 3],
           provider => 'test', user_id => 'user-' || (i % 7),
           input_tokens => 100 + i, output_tokens => 10 + i % 50,
           duration_ms => 200 + i, cost => (i * 0.0001)::numeric))
    FROM generate_series(1, 300) i});
$primary->safe_psql('postgres', 'SELECT ragstore.refresh_usage_daily()');

# The cache's hnsw index for 1536-dimension embeddings (cosine; CREATE EXTENSION makes it when
# hnsw is installed): every entry below reaches the replica's copy of it through WAL inserts.
is($primary->safe_psql('postgres', 'SELECT ragstore.cache_create_index(1536)'), 'ragstore.cache_entries_hnsw_1536',
   'the cache hnsw index exists on the primary');

# Cache entries: one per cached embedding, responses naming their row.
my $sql = "BEGIN;\n";
for my $i (0 .. $n_cached - 1) {
  $sql .= "SELECT ragstore.cache_store(prompt => 'prompt $i', embedding => '" . vec_literal($emb->[$i])
        . "', response => 'answer $i', model => 'text-embedding-ada-002-chat');\n";
}
$primary->safe_psql('postgres', "$sql COMMIT;");
wait_for_replay($primary, $standby);

for my $q (
  [ 'log rows', 'SELECT count(*), sum(input_tokens), sum(cost) FROM ragstore.interactions' ],
  [ 'log rows per model', 'SELECT request_model, count(*), sum(output_tokens) FROM ragstore.interactions GROUP BY 1 ORDER BY 1' ],
  [ 'daily rollup', 'SELECT * FROM ragstore.usage_daily ORDER BY 1, 2, 3' ],
  [ 'cache entries', 'SELECT id, prompt, response, model FROM ragstore.cache_entries ORDER BY id' ])
{
  my $p = $primary->safe_psql('postgres', $q->[1]);
  isnt($p, '', "$q->[0]: present on the primary");
  is($standby->safe_psql('postgres', $q->[1]), $p, "$q->[0]: identical on the replica");
}
is($standby->safe_psql('postgres', 'SELECT count(*) FROM ragstore.interactions'), '300', 'all 300 log rows on the replica');
like($standby->safe_psql('postgres', q{SELECT pg_get_indexdef('ragstore.cache_entries_hnsw_1536'::regclass)}),
     qr/USING hnsw/, 'the cache hnsw index exists on the replica');

# cache_lookup on the replica: every cached embedding finds its own entry (distance ~0), the
# uncached ones (other texts) find nothing within 0.001 (the closest two different texts are 0.0014 apart), and every answer equals the primary's.
# The probe embeddings go into a table on the primary (so they replicate too); one query per node
# runs all 200 lookups.
my $probes = "BEGIN; CREATE TABLE probe (i int PRIMARY KEY, e vector(1536));\n";
$probes .= "INSERT INTO probe VALUES ($_, '" . vec_literal($emb->[$_]) . "');\n" for 0 .. 199;
$primary->safe_psql('postgres', "$probes COMMIT;");
wait_for_replay($primary, $standby);
my $look = q{SELECT p.i, coalesce(string_agg(c.response || ' ' || round(c.distance::numeric, 4), ';'), 'none')
               FROM probe p LEFT JOIN LATERAL ragstore.cache_lookup(p.e, 'text-embedding-ada-002-chat',
                                                                    max_distance => 0.001) c ON true
              GROUP BY p.i ORDER BY p.i};
my @s = split /\n/, $standby->safe_psql('postgres', $look);
my @p = split /\n/, $primary->safe_psql('postgres', $look);
is(scalar @s, 200, 'replica: 200 lookups answered');
my ($hits, $right, $misses, $same) = (0, 0, 0, 0);
for my $i (0 .. 199) {
  $same++ if defined $s[$i] && defined $p[$i] && $s[$i] eq $p[$i];
  my (undef, $s) = split /\|/, $s[$i] // "$i|missing";
  if ($i < $n_cached) {
    $hits++ if $s ne 'none';
    $right++ if $s =~ /^answer $i 0\.0000$/;
  } else {
    $misses++ if $s eq 'none';
  }
}
is($hits, $n_cached, 'replica: every cached prompt hits');
is($right, $n_cached, 'replica: ... with its own entry at distance 0');
is($misses, 100, 'replica: every uncached prompt misses');
is($same, 200, 'replica: cache_lookup answers exactly as the primary for all 200 lookups');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM ragstore.cache_lookup('}
   . vec_literal($emb->[0]) . q{', 'another-model')}), '0', 'replica: the model scopes the cache');

# Writes are refused on the replica.
my ($ret, $out, $err) = $standby->psql('postgres',
  q{SELECT ragstore.log_interaction(request_model => 'gpt-4o-mini')}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/25006/, 'replica: log_interaction is refused (25006 read-only)');
($ret, $out, $err) = $standby->psql('postgres',
  q{SELECT ragstore.cache_store('p', '} . vec_literal($emb->[0]) . q{', 'r', 'm')}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/25006/, 'replica: cache_store is refused (25006 read-only)');

# A new entry on the primary becomes visible on the replica after replay.
$primary->safe_psql('postgres', q{SELECT ragstore.cache_store('late', '} . vec_literal($emb->[150])
  . q{', 'late answer', 'text-embedding-ada-002-chat')});
wait_for_replay($primary, $standby);
is($standby->safe_psql('postgres', q{SELECT response FROM ragstore.cache_lookup('} . vec_literal($emb->[150])
  . q{', 'text-embedding-ada-002-chat', max_distance => 0.001)}), 'late answer', 'replica: a new entry replicates and hits');
verify_clean($primary, 'postgres', 'primary');
verify_clean($standby, 'postgres', 'hot standby');

$standby->stop;
$primary->stop;
done_testing();
