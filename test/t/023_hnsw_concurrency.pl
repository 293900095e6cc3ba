# Concurrent inserts, deletes, VACUUMs and searches on one hnsw index (pgbench, 6 clients):
# no error, no crash, and afterwards no deleted row is returned, no row twice, and (nearly)
# every live row is found through the index.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RagstoreTest qw(verify_clean);

my $node = PostgreSQL::Test::Cluster->new('hnsw_concurrency');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 50\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$node->safe_psql('postgres', q{CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(16))});
$node->safe_psql('postgres', q{CREATE FUNCTION rv() RETURNS vector LANGUAGE sql VOLATILE AS
  $$ SELECT ('[' || array_to_string(ARRAY(SELECT round((random() * 10)::numeric, 3) FROM generate_series(1, 16)), ',') || ']')::vector $$});
$node->safe_psql('postgres', 'INSERT INTO items (embedding) SELECT rv() FROM generate_series(1, 2000)');
$node->safe_psql('postgres', 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)');

# ragstore.verify_index runs in the mix too: with inserts, deletes and VACUUM going on it must
# report nothing (its snapshot, the update lock and its re-check under exclusive lock keep it
# from mistaking an insert in progress for damage).
$node->safe_psql('postgres', 'CREATE TABLE verify_log AS SELECT * FROM ragstore.verify_index(\'items_hnsw\') LIMIT 0');
$node->pgbench('--no-vacuum --client=6 --jobs=2 --time=15 --protocol=simple', 0,
  [qr{processed: [1-9]}], [qr{^$}], 'concurrent inserts, deletes, vacuums, searches and verify_index',
  {
    'hnsw_verify@1' => q{INSERT INTO verify_log SELECT * FROM ragstore.verify_index('items_hnsw', true);},
    'hnsw_insert@8' => q{INSERT INTO items (embedding) SELECT rv() FROM generate_series(1, 5);},
    'hnsw_search@8' => q{SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> rv() LIMIT 10) s;},
    'hnsw_delete@3' => q{\set d random(1, 10000)
DELETE FROM items WHERE id BETWEEN :d AND :d + 20;},
    'hnsw_vacuum@1' => q{VACUUM items;},
  });

# Every row the index returns is live and returned once, and every live row is returned:
# concurrent inserts keep every element reachable (HnswAddLink retries when another insert
# changed a list meanwhile) and VACUUM reconnects what its repairs leave without in-links.
my $via_index = q{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
  SET hnsw.max_scan_tuples = 1000000; SET work_mem = '256MB'; SET hnsw.ef_search = 200;
  SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = s.id)),
         count(*) = count(DISTINCT id), (SELECT count(*) FROM items) - count(*)
  FROM (SELECT id FROM items ORDER BY embedding <-> '[5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5]' LIMIT 1000000) s};
is($node->safe_psql('postgres', $via_index), '0|t|0',
  'after the run: no deleted row, each row once, every live row found through the index');
$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', $via_index), '0|t|0', 'the same after a final VACUUM');
is($node->safe_psql('postgres', "SET ragstore.debug_functions = on;
  SELECT elements = (SELECT count(*) FROM items), orphans, unreachable FROM ragstore.debug_hnsw_graph('items_hnsw')"),
  't|0|0', 'after VACUUM: one element per live row, none without in-links or unreachable');
is($node->safe_psql('postgres', 'SELECT count(*) FROM verify_log'), '0',
   'verify_index during the run reported nothing')
  or diag($node->safe_psql('postgres', 'SELECT * FROM verify_log LIMIT 20'));
verify_clean($node, 'postgres', 'after the run');
unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC/, 'no backend crashed');

$node->stop;
done_testing();
