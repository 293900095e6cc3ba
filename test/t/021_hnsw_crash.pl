# hnsw crash recovery: rows are inserted one transaction each while the server is stopped with
# an immediate shutdown (no checkpoint); after restart every committed row must be found through
# the index (WAL replay of the build's full-page images and of the inserts' generic records,
# including neighbour updates and new pages), exactly once, and the index keeps taking inserts.
# An unlogged table's index comes back empty and usable (its init fork).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use RagstoreTest qw(data_dir read_fvecs load_fvecs_table vec_literal verify_clean);

my $node = PostgreSQL::Test::Cluster->new('hnsw_crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_buffers = 64MB\nsynchronous_commit = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

my $base = read_fvecs(data_dir() . '/sift5k/base.fvecs', 3000);
my @first = @$base[ 0 .. 999 ];
load_fvecs_table($node, 'postgres', 'items', \@first);
$node->safe_psql('postgres', 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)');
$node->safe_psql('postgres', 'CREATE UNLOGGED TABLE scratch (id int, embedding vector(128))');
$node->safe_psql('postgres', 'CREATE INDEX ON scratch USING hnsw (embedding vector_l2_ops)');
$node->safe_psql('postgres', 'INSERT INTO scratch SELECT * FROM items WHERE id < 100');
$node->safe_psql('postgres', 'CHECKPOINT');

my $sql = '';
for my $i (1000 .. 2999) {
  $sql .= "INSERT INTO items VALUES ($i, '" . vec_literal($base->[$i]) . "');\n";
}
my $file = $node->basedir . '/inserts.sql';
PostgreSQL::Test::Utils::append_to_file($file, $sql);
my ($out, $err) = ('', '');
my $h = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $file ],
  '>', \$out, '2>', \$err);
$node->poll_query_until('postgres', 'SELECT count(*) >= 1600 FROM items') or die 'inserts did not progress';
$node->stop('immediate');
$h->finish;
$node->start;

# Every row through the index: an iterative scan with no budget limit enumerates the graph.
# Rows returned must be committed rows, each once, and every committed row must be returned:
# inserts never leave an element without in-links (HnswAddLink), and a WAL bug that loses a
# page or a neighbour update shows up as missing rows (or a broken scan).
my $via_index = q{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
  SET hnsw.max_scan_tuples = 1000000; SET work_mem = '256MB'; SET hnsw.ef_search = 200;
  SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = s.id)),
         count(*) = count(DISTINCT id), (SELECT count(*) FROM items) - count(*) FROM
    (SELECT id FROM items ORDER BY embedding <-> '} . vec_literal($base->[0]) . q{' LIMIT 1000000) s};
my $committed = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($committed, '>=', 1600, "committed rows survived the crash ($committed)");
my ($foreign, $once, $missing) = split /\|/, $node->safe_psql('postgres', $via_index);
is("$foreign|$once", '0|t', 'the index returns only committed rows, each once');
is($missing, '0', "every committed row is found through the index ($committed rows)");
like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN SELECT id FROM items ORDER BY embedding <-> '"
  . vec_literal($base->[0]) . "' LIMIT 1"), qr/Index Scan using items_hnsw/, 'the query used the index');

# Inserted rows are their own nearest neighbour (a sample).
my $check = "SET enable_seqscan = off;\n";
my @sample = map { 1000 + 13 * $_ } 0 .. 39;
for my $i (@sample) {
  $check .= "SELECT (SELECT id FROM items ORDER BY embedding <-> '" . vec_literal($base->[$i])
    . "' LIMIT 1) = $i OR NOT EXISTS (SELECT 1 FROM items WHERE id = $i);\n";
}
my @ok = split /\n/, $node->safe_psql('postgres', $check);
is(scalar(grep { $_ eq 't' } @ok), scalar(@sample), 'inserted rows are found as their own nearest neighbour');

my $new = vec_literal([ map { $_ + 0.5 } @{ $base->[2999] } ]);
$node->safe_psql('postgres', "INSERT INTO items VALUES (100000, '$new')");
is($node->safe_psql('postgres', "SET enable_seqscan = off; SELECT id FROM items ORDER BY embedding <-> '$new' LIMIT 1"),
  '100000', 'inserts after recovery are found');

is($node->safe_psql('postgres', 'SELECT count(*) FROM scratch'), '0', 'unlogged table reset by the crash');
$node->safe_psql('postgres', "INSERT INTO scratch VALUES (7, '" . vec_literal($base->[7]) . "')");
is($node->safe_psql('postgres', "SET enable_seqscan = off; SELECT id FROM scratch ORDER BY embedding <-> '"
  . vec_literal($base->[7]) . "' LIMIT 1"), '7', 'unlogged index usable after the crash (init fork)');

verify_clean($node, 'postgres', 'after crash recovery and more inserts');
$node->safe_psql('postgres', 'VACUUM items');
verify_clean($node, 'postgres', 'after VACUUM');

$node->stop;
done_testing();
