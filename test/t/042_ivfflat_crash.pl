# ivfflat crash recovery: rows are inserted one transaction each while the server is stopped
# with an immediate shutdown (no checkpoint); after restart every committed row must be found
# through the index (WAL replay of generic records, including new pages appended to a list), in
# the list of its nearest centroid, and the index must keep taking inserts. An unlogged table's
# index comes back empty and usable (its init fork).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use RagstoreTest qw(data_dir read_fvecs load_fvecs_table vec_literal verify_clean);

my $node = PostgreSQL::Test::Cluster->new('ivf_crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_buffers = 64MB\nsynchronous_commit = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');

my $base = read_fvecs(data_dir() . '/sift5k/base.fvecs', 4000);
my @first = @$base[ 0 .. 999 ];
load_fvecs_table($node, 'postgres', 'items', \@first);
$node->safe_psql('postgres', 'CREATE INDEX items_ivf ON items USING ivfflat (embedding) WITH (lists = 10)');
$node->safe_psql('postgres', 'CREATE UNLOGGED TABLE scratch (id int, embedding vector(128))');
$node->safe_psql('postgres', 'CREATE INDEX ON scratch USING ivfflat (embedding) WITH (lists = 4)');
$node->safe_psql('postgres', "INSERT INTO scratch SELECT * FROM items WHERE id < 100");
$node->safe_psql('postgres', 'CHECKPOINT');

# One INSERT per transaction, from a background psql.
my $sql = '';
for my $i (1000 .. 3999) {
  $sql .= "INSERT INTO items VALUES ($i, '" . vec_literal($base->[$i]) . "');\n";
}
my $file = $node->basedir . '/inserts.sql';
PostgreSQL::Test::Utils::append_to_file($file, $sql);
my ($out, $err) = ('', '');
my $h = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $file ],
  '>', \$out, '2>', \$err);
$node->poll_query_until('postgres', 'SELECT count(*) >= 1800 FROM items') or die 'inserts did not progress';
$node->stop('immediate');
$h->finish;  # psql loses its connection
$node->start;

my $committed = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($committed, '>=', 1800, "committed rows survived the crash ($committed)");
my $q = vec_literal($base->[0]);
my $through_index = $node->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = 10;
  SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM items ORDER BY embedding <-> '$q' LIMIT 100000) s");
is($through_index, "$committed|$committed", 'every committed row is found through the index, once');
like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN SELECT id FROM items ORDER BY embedding <-> '$q' LIMIT 1"),
  qr/Index Scan using items_ivf/, 'the query used the index');

# Each of a sample of inserted rows sits in its nearest list: one probe finds it first.
my $found = 0;
my @sample = map { 1000 + 17 * $_ } 0 .. 39;
my $check = "SET enable_seqscan = off; SET ivfflat.probes = 1;\n";
for my $i (@sample) {
  $check .= "SELECT (SELECT id FROM items ORDER BY embedding <-> '" . vec_literal($base->[$i]) . "' LIMIT 1) = $i OR NOT EXISTS (SELECT 1 FROM items WHERE id = $i);\n";
}
my @ok = split /\n/, $node->safe_psql('postgres', $check);
is(scalar(grep { $_ eq 't' } @ok), scalar(@sample), 'inserted rows are in their nearest list after recovery');

# The index keeps working: a new row (a vector no other row has) is found first.
my $new = vec_literal([ map { $_ + 0.5 } @{ $base->[3999] } ]);
$node->safe_psql('postgres', "INSERT INTO items VALUES (100000, '$new')");
is($node->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = 10;
  SELECT id FROM items ORDER BY embedding <-> '$new' LIMIT 1"), '100000', 'inserts after recovery are found');

# The unlogged table came back empty, with a usable index.
is($node->safe_psql('postgres', 'SELECT count(*) FROM scratch'), '0', 'unlogged table reset by the crash');
$node->safe_psql('postgres', "INSERT INTO scratch VALUES (7, '" . vec_literal($base->[7]) . "')");
is($node->safe_psql('postgres', "SET enable_seqscan = off; SELECT id FROM scratch ORDER BY embedding <-> '"
  . vec_literal($base->[7]) . "' LIMIT 1"), '7', 'unlogged index usable after the crash (init fork)');

verify_clean($node, 'postgres', 'after crash recovery and more inserts');
$node->safe_psql('postgres', 'VACUUM items');
verify_clean($node, 'postgres', 'after VACUUM');

$node->stop;
done_testing();
