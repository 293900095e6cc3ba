# The planner chooses an hnsw or ivfflat index where pgvector's planner chooses its index, and a
# sequential scan where pgvector's does.
#
# Cases (pgvector 0.8's plans for the same shapes of query and data, from its public tests):
#   - ORDER BY v <-> q LIMIT 10, with and without a distance threshold WHERE v <-> q < 1, on
#     6,000 rows of 384 and of 1,536 random dimensions (hnsw, defaults) and on 5,000 such rows
#     with ivfflat lists = 5: an index scan. At 1,536 dimensions the vectors live in TOAST, which
#     the planner's sequential-scan cost leaves out; before the shared cost model both methods
#     lost to a sequential scan and sort here.
#   - two ivfflat indexes of 50 and 100 lists: the one with 100 lists.
#   - a WHERE filter removing 1 row in 50 (c <> const): the index; no LIMIT, or no ORDER BY: a
#     sequential scan. (A filter keeping 1 row in 50 is left out: pgvector uses its index there
#     and marks that as a plan to change; ours depends on the index's size.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('planner');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

srand(4501);
sub random_literal {
  my ($dim) = @_;
  return '[' . join(',', map { sprintf('%.6f', rand()) } 1 .. $dim) . ']';
}

sub plan_of {
  my ($sql) = @_;
  return $node->safe_psql('postgres', "EXPLAIN $sql");
}

for my $dim (384, 1536) {
  my $random = join(',', ('random()') x $dim);
  $node->safe_psql('postgres', "CREATE TABLE tp (i int4, v vector($dim))");
  $node->safe_psql('postgres', "INSERT INTO tp SELECT i, ARRAY[$random] FROM generate_series(1, 6000) i");
  $node->safe_psql('postgres', 'CREATE TABLE tp5 AS SELECT * FROM tp WHERE i <= 5000');
  $node->safe_psql('postgres', 'ANALYZE tp; ANALYZE tp5');
  my $q = random_literal($dim);

  $node->safe_psql('postgres', 'CREATE INDEX tp_hnsw ON tp USING hnsw (v vector_l2_ops)');
  like(plan_of("SELECT i FROM tp ORDER BY v <-> '$q' LIMIT 10"), qr/Index Scan using tp_hnsw/,
       "hnsw, $dim dimensions, ORDER BY ... LIMIT 10: index scan");
  like(plan_of("SELECT i FROM tp WHERE v <-> '$q' < 1 ORDER BY v <-> '$q' LIMIT 10"),
       qr/Index Scan using tp_hnsw/, "hnsw, $dim dimensions, with a distance threshold: index scan");

  $node->safe_psql('postgres', 'CREATE INDEX tp5_ivf ON tp5 USING ivfflat (v vector_l2_ops) WITH (lists = 5)');
  like(plan_of("SELECT i FROM tp5 ORDER BY v <-> '$q' LIMIT 10"), qr/Index Scan using tp5_ivf/,
       "ivfflat lists 5, $dim dimensions, ORDER BY ... LIMIT 10: index scan");
  like(plan_of("SELECT i FROM tp5 WHERE v <-> '$q' < 1 ORDER BY v <-> '$q' LIMIT 10"),
       qr/Index Scan using tp5_ivf/, "ivfflat lists 5, $dim dimensions, with a distance threshold: index scan");

  $node->safe_psql('postgres', 'DROP TABLE tp, tp5');
}

# Attribute filters, both methods: 10,000 rows of 3 dimensions, c in 0..49.
$node->safe_psql('postgres', 'CREATE TABLE tf (i int4, v vector(3), c int4)');
$node->safe_psql('postgres',
  'INSERT INTO tf SELECT i, ARRAY[random(), random(), random()], i % 50 FROM generate_series(1, 10000) i');
$node->safe_psql('postgres', 'ANALYZE tf');
my $q3 = random_literal(3);
for my $method ('hnsw', 'ivfflat') {
  my $with = $method eq 'ivfflat' ? 'WITH (lists = 100)' : '';
  $node->safe_psql('postgres', "CREATE INDEX tf_idx ON tf USING $method (v vector_l2_ops) $with");
  like(plan_of("SELECT i FROM tf WHERE c <> 7 ORDER BY v <-> '$q3' LIMIT 20"), qr/Index Scan using tf_idx/,
       "$method: a filter removing 1 row in 50: index scan");
  like(plan_of("SELECT i FROM tf WHERE v <-> '$q3' < 0.5 ORDER BY v <-> '$q3' LIMIT 20"),
       qr/Index Scan using tf_idx/, "$method: a distance threshold: index scan");
  like(plan_of("SELECT i FROM tf WHERE v <-> '$q3' < 0.5 ORDER BY v <-> '$q3'"), qr/Seq Scan on tf/,
       "$method: no LIMIT: sequential scan");
  like(plan_of("SELECT i FROM tf WHERE v <-> '$q3' < 0.5"), qr/Seq Scan on tf/,
       "$method: no ORDER BY: sequential scan");
  $node->safe_psql('postgres', 'DROP INDEX tf_idx');
}

# Of two ivfflat indexes, the one with more lists (a search reads a smaller part of it).
$node->safe_psql('postgres', 'CREATE INDEX lists50 ON tf USING ivfflat (v vector_l2_ops) WITH (lists = 50)');
$node->safe_psql('postgres', 'CREATE INDEX lists100 ON tf USING ivfflat (v vector_l2_ops) WITH (lists = 100)');
my $plan = plan_of("SELECT i FROM tf ORDER BY v <-> '$q3' LIMIT 10");
like($plan, qr/Index Scan using lists100/, 'ivfflat: 100 lists preferred over 50');
unlike($plan, qr/lists50/, 'ivfflat: the 50-list index is not used');

$node->stop;
done_testing();
