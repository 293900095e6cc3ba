# ragstore under pgvector's extension name `vector` (vector.control, scripts/vector_name.sh):
# - CREATE EXTENSION vector installs exactly ragstore's objects and reports pgvector's version;
# - both names in one database, in both orders: `vector` after ragstore is an alias (no objects
#   added, dropped with ragstore), ragstore after `vector` is a clear error; nothing is ever
#   half-installed; DROP leaves nothing behind;
# - pg_dump/pg_restore (custom format) of a database that has `vector` (tables of vector,
#   halfvec, sparsevec and bit columns, hnsw and ivfflat indexes) restores into a fresh database
#   and into one where ragstore is installed already, indexes rebuilt, same rows from the same
#   queries; a dump of ragstore + alias restores both names;
# - a plain-SQL dump shaped like pg_dump's output for a pgvector 0.8 database restores with psql;
# - ALTER EXTENSION ... UPDATE for both names and for the alias, through upgrade scripts made by
#   the generator the Makefile uses, in a private copy of the installation;
# - the installer leaves a real pgvector's files alone, and CREATE EXTENSION ragstore next to
#   pgvector's extension is a clear error.
use strict;
use warnings;
use File::Basename qw(dirname basename);
use File::Copy qw(copy);
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('vector_name');
$node->init;
$node->start;

# ragstore's members as text, independent of OIDs
my $members_sql = q{
  SELECT string_agg(pg_describe_object(classid, objid, objsubid), E'\n'
                    ORDER BY pg_describe_object(classid, objid, objsubid))
    FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
     AND refobjid = (SELECT oid FROM pg_extension WHERE extname = '%s')};
sub members { my ($db, $ext) = @_; return $node->safe_psql($db, sprintf($members_sql, $ext)); }
sub exts {
  my ($db) = @_;
  return $node->safe_psql($db,
    q{SELECT string_agg(extname || '=' || extversion, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'});
}
sub leftovers {
  my ($db) = @_;
  return $node->safe_psql($db, q{
    SELECT (SELECT count(*) FROM pg_type WHERE typname IN ('vector', 'halfvec', 'sparsevec'))
         + (SELECT count(*) FROM pg_namespace WHERE nspname = 'ragstore')
         + (SELECT count(*) FROM pg_am WHERE amname IN ('hnsw', 'ivfflat'))
         + (SELECT count(*) FROM pg_proc WHERE probin LIKE '%ragstore%')});
}

# ---- one name at a time: the same objects, pgvector's version under `vector`
for my $db (qw(byvector byragstore both1 both2)) { $node->safe_psql('postgres', "CREATE DATABASE $db"); }
$node->safe_psql('byvector', 'CREATE EXTENSION vector');
$node->safe_psql('byragstore', 'CREATE EXTENSION ragstore');
is(exts('byvector'), 'vector=0.8.0', 'CREATE EXTENSION vector reports the pgvector version it matches');
my $ragstore_members = members('byragstore', 'ragstore');
cmp_ok(scalar(split /\n/, $ragstore_members), '>', 200, 'ragstore owns its objects');
is(members('byvector', 'vector'), $ragstore_members, 'the name vector installs exactly the objects ragstore installs');
is($node->safe_psql('byvector', q{SELECT '[1,2]'::vector <-> '[4,6]', '[1,2]'::halfvec <=> '[2,4]',
                                   '{1:3}/2'::sparsevec <#> '{1:2,2:5}/2', ragstore.setting('retention')}),
   '5|0|-6|90 days', 'types, operators and schema ragstore work under the name vector');
is($node->safe_psql('byvector', q{SELECT count(*) FROM pg_namespace n JOIN pg_extension e ON e.extnamespace = n.oid
                                   WHERE e.extname = 'vector' AND n.nspname = 'public'}), '1', 'installed into public');

# ---- `vector`, then ragstore: a clear error, nothing added
my ($ret, $out, $err) = $node->psql('byvector', 'CREATE EXTENSION ragstore');
isnt($ret, 0, 'CREATE EXTENSION ragstore after vector fails');
like($err, qr/ragstore is already installed in this database under the name "vector"/, '... saying why');
like($err, qr/HINT:.*use it as it is/, '... and what to do');
is(exts('byvector'), 'vector=0.8.0', '... no extension added');
is(members('byvector', 'vector'), $ragstore_members, '... vector still owns the same objects');
($ret, $out, $err) = $node->psql('byvector', 'CREATE EXTENSION IF NOT EXISTS ragstore');
isnt($ret, 0, 'IF NOT EXISTS ragstore after vector: the same error (ragstore is not an extension name there)');
$node->safe_psql('byvector', 'CREATE EXTENSION IF NOT EXISTS vector');
is(exts('byvector'), 'vector=0.8.0', 'CREATE EXTENSION IF NOT EXISTS vector again: no-op');

# ---- ragstore, then `vector` (what LangChain & co. do): an alias, no objects added
$node->safe_psql('both1', 'CREATE EXTENSION ragstore');
$node->safe_psql('both1', 'CREATE EXTENSION IF NOT EXISTS vector');
is(exts('both1'), 'ragstore=0.1.0,vector=0.8.0', 'vector after ragstore: both names, pgvector version reported');
is(members('both1', 'ragstore'), $ragstore_members, 'ragstore owns exactly what it owned');
is(members('both1', 'vector'), 'function ragstore.vector_name_alias(vector)', 'the alias owns one function only');
$node->safe_psql('both1', 'CREATE EXTENSION IF NOT EXISTS vector');
($ret, $out, $err) = $node->psql('both1', 'DROP EXTENSION ragstore');
isnt($ret, 0, 'DROP EXTENSION ragstore while the alias exists needs CASCADE');
like($err, qr/extension vector depends on/, '... naming the alias');
$node->safe_psql('both1', 'DROP EXTENSION vector');
is(exts('both1'), 'ragstore=0.1.0', 'DROP EXTENSION vector (alias) leaves ragstore');
is(members('both1', 'ragstore'), $ragstore_members, '... with all its objects');
$node->safe_psql('both1', 'CREATE EXTENSION vector');
$node->safe_psql('both1', 'DROP EXTENSION ragstore CASCADE');
is(exts('both1'), '', 'DROP EXTENSION ragstore CASCADE drops the alias too');
is(leftovers('both1'), '0', '... and leaves no object behind');

$node->safe_psql('byvector', 'DROP EXTENSION vector');
is(leftovers('byvector'), '0', 'DROP EXTENSION vector (full) leaves no object behind');
$node->safe_psql('byvector', 'CREATE EXTENSION vector');

# ---- a database made by an application under the name vector: dump, restore
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
  CREATE EXTENSION vector WITH SCHEMA public;
  CREATE TABLE items (id int PRIMARY KEY, v vector(3), h halfvec(3), s sparsevec(6), b bit(8));
  SELECT setseed(0.42);
  INSERT INTO items
    SELECT g, ARRAY[random() - 0.5, random() - 0.5, random() - 0.5]::real[]::vector,
              ARRAY[random() * 2 - 1, random() * 2 - 1, random() * 4]::real[]::halfvec,
              ('{' || 1 + g % 6 || ':' || round(random()::numeric * 9 + 0.1, 4) || ','
                   || 1 + (g * 5) % 6 || ':' || -round(random()::numeric * 5 + 0.1, 4) || '}/6')::sparsevec,
              (random() * 255)::int::bit(8)
      FROM generate_series(1, 300) g WHERE g % 6 <> (g * 5) % 6;
  CREATE INDEX items_v_hnsw ON items USING hnsw (v vector_l2_ops);
  CREATE INDEX items_v_ivf ON items USING ivfflat (v vector_ip_ops) WITH (lists = 4);
  CREATE INDEX items_h_hnsw ON items USING hnsw (h halfvec_cosine_ops) WITH (m = 8, ef_construction = 32);
  CREATE INDEX items_h_ivf ON items USING ivfflat (h halfvec_l2_ops) WITH (lists = 3);
  CREATE INDEX items_s_hnsw ON items USING hnsw (s sparsevec_l1_ops);
  CREATE INDEX items_b_hnsw ON items USING hnsw (b bit_hamming_ops);});
my $nrows = $node->safe_psql('app', 'SELECT count(*) FROM items');

# each query through its index (probes = lists, large ef_search: exact on this size) and the
# same query by a sequential scan
# each query through its index (probes = lists, ef_search above the row count: exact on this
# size) and by a sequential scan; ids, except for bit, whose integer distances tie: distances.
# halfvec cosine is not compared with the exact order: the index orders by distances between
# values normalised to halfvec (as pgvector's does), which can swap near-equal neighbours.
my %queries = (
  v_l2  => [ 'items_v_hnsw', q{v <-> '[0.1,0.2,-0.1]'}, 'id', 1 ],
  v_ip  => [ 'items_v_ivf',  q{v <#> '[1,-0.5,0.2]'}, 'id', 1 ],
  h_cos => [ 'items_h_hnsw', q{h <=> '[0.3,0.9,2]'}, 'id', 0 ],
  h_l2  => [ 'items_h_ivf',  q{h <-> '[-0.5,0.2,3]'}, 'id', 1 ],
  s_l1  => [ 'items_s_hnsw', q{s <+> '{2:4,5:-2}/6'}, 'id', 1 ],
  b_ham => [ 'items_b_hnsw', q{b <~> '10110011'}, q{b <~> '10110011'}, 1 ],
);
my $via_index = 'SET enable_seqscan = off; SET enable_sort = off; SET hnsw.ef_search = 400; SET ivfflat.probes = 4;';
my $via_seq   = 'SET enable_indexscan = off; SET enable_bitmapscan = off;';
sub run_queries {
  my ($db) = @_;
  my %r;
  for my $k (sort keys %queries) {
    my ($index, $order, $out, $exact) = @{ $queries{$k} };
    like($node->safe_psql($db, "$via_index EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY $order LIMIT 7"),
         qr/Index Scan using $index/, "$db: $k uses $index");
    $r{$k} = $node->safe_psql($db,
      "$via_index SELECT string_agg(x::text, ',') FROM (SELECT $out AS x FROM items ORDER BY $order LIMIT 7) q");
    next unless $exact;
    is($r{$k}, $node->safe_psql($db,
      "$via_seq SELECT string_agg(x::text, ',') FROM (SELECT $out AS x FROM items ORDER BY $order, id LIMIT 7) q"),
       "$db: $k through the index = exact");
  }
  return \%r;
}
my $before = run_queries('app');

my $dump = $node->basedir . '/app.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-h', $node->host, '-p', $node->port, '-f', $dump, 'app' ], 'pg_dump -Fc');
my ($sql) = run_command([ 'pg_restore', '-f', '-', $dump ]);
like($sql, qr/^CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;$/m, 'the dump says CREATE EXTENSION vector');
unlike($sql, qr/CREATE (TYPE|FUNCTION|SCHEMA ragstore|TABLE ragstore)/, 'and no extension object');
like($sql, qr/USING hnsw \(v public\.vector_l2_ops\)/, 'the index definitions name pgvector\'s operator classes');

for my $target (qw(restored hasragstore)) {
  $node->safe_psql('postgres', "CREATE DATABASE $target");
  $node->safe_psql($target, 'CREATE EXTENSION ragstore') if $target eq 'hasragstore';
  $node->command_ok([ 'pg_restore', '--exit-on-error', '-h', $node->host, '-p', $node->port, '-d', $target, $dump ],
                    "pg_restore into $target");
  is($node->safe_psql($target, 'SELECT count(*) FROM items'), $nrows, "$target: all rows");
  is($node->safe_psql($target, q{SELECT string_agg(c.relname || ':' || a.amname, ',' ORDER BY c.relname)
                                   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
                                  WHERE i.indrelid = 'items'::regclass AND a.amname <> 'btree'}),
     'items_b_hnsw:hnsw,items_h_hnsw:hnsw,items_h_ivf:ivfflat,items_s_hnsw:hnsw,items_v_hnsw:hnsw,items_v_ivf:ivfflat',
     "$target: the indexes rebuilt by ragstore");
  my $after = run_queries($target);
  is($after->{$_}, $before->{$_}, "$target: $_ returns the same rows") for sort keys %queries;
}
is(exts('restored'), 'vector=0.8.0', 'restored: the extension is vector again');
is(exts('hasragstore'), 'ragstore=0.1.0,vector=0.8.0', 'hasragstore: the dump\'s vector became the alias');

# ragstore + alias: a dump restores both names the same way
my $dump2 = $node->basedir . '/both.dump';
$node->safe_psql('both2', q{CREATE EXTENSION ragstore; CREATE EXTENSION vector;
                            CREATE TABLE t (id int, v vector(2)); INSERT INTO t VALUES (1, '[1,2]'), (2, '[3,1]');
                            CREATE INDEX ON t USING hnsw (v vector_cosine_ops);});
$node->command_ok([ 'pg_dump', '-Fc', '-h', $node->host, '-p', $node->port, '-f', $dump2, 'both2' ], 'pg_dump of ragstore + alias');
$node->safe_psql('postgres', 'CREATE DATABASE both2_restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-h', $node->host, '-p', $node->port, '-d', 'both2_restored', $dump2 ],
                  'pg_restore of ragstore + alias');
is(exts('both2_restored'), 'ragstore=0.1.0,vector=0.8.0', 'both names restored');
is(members('both2_restored', 'vector'), 'function ragstore.vector_name_alias(vector)', 'vector restored as the alias');
is($node->safe_psql('both2_restored', q{SET enable_seqscan = off; SELECT id FROM t ORDER BY v <=> '[3,1.2]' LIMIT 1}), '2',
   'the restored index answers');

# ---- a plain-SQL dump as pg_dump writes it for a pgvector 0.8 database (our own data)
my $plain = $node->basedir . '/pgvector_plain.sql';
open(my $fh, '>', $plain) or die;
print $fh <<'EOF';
--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: vector; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;


--
-- Name: EXTENSION vector; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION vector IS 'vector data type and ivfflat and hnsw access methods';


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: notes; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.notes (
    id bigint NOT NULL,
    body text,
    embedding public.vector(4),
    small public.halfvec(4),
    terms public.sparsevec(8)
);


ALTER TABLE public.notes OWNER TO postgres;

--
-- Data for Name: notes; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.notes (id, body, embedding, small, terms) FROM stdin;
1	apples	[1,0,0,0]	[1,0,0,0]	{1:1,3:2}/8
2	pears	[0.9,0.1,0,0]	[0.9,0.1,0,0]	{1:1,4:1}/8
3	plums	[0,1,0,0]	[0,1,0,0]	{2:3}/8
4	figs	[0,0.8,0.2,0]	[0,0.8,0.2,0]	{2:2,8:1}/8
5	dates	[0,0,1,0]	[0,0,1,0]	{5:1}/8
6	limes	[0,0,0.1,0.9]	[0,0,0.1,0.9]	{6:1,7:1}/8
7	kiwis	[0.5,0.5,0,0]	[0.5,0.5,0,0]	{1:1,2:1}/8
8	\N	\N	\N	\N
\.


--
-- Name: notes notes_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (id);


--
-- Name: notes_embedding_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX notes_embedding_idx ON public.notes USING hnsw (embedding public.vector_cosine_ops) WITH (m='8', ef_construction='32');


--
-- Name: notes_embedding_idx1; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX notes_embedding_idx1 ON public.notes USING ivfflat (embedding public.vector_l2_ops) WITH (lists='2');


--
-- Name: notes_small_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX notes_small_idx ON public.notes USING hnsw (small public.halfvec_ip_ops);


--
-- Name: notes_terms_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX notes_terms_idx ON public.notes USING hnsw (terms public.sparsevec_l2_ops);


--
-- PostgreSQL database dump complete
--

EOF
close $fh;
$node->safe_psql('postgres', 'CREATE DATABASE fromplain');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port,
                    '-d', 'fromplain', '-f', $plain ], 'a pgvector-shaped plain dump restores with psql');
is(exts('fromplain'), 'vector=0.8.0', 'fromplain: extension vector');
for my $case ([ 'notes_embedding_idx', q{embedding <=> '[1,0.05,0,0]'}, '1,2,7' ],
              [ 'notes_embedding_idx1', q{embedding <-> '[0,0.85,0.15,0]'}, '4,3,7' ],
              [ 'notes_small_idx', q{small <#> '[0,0,1,2]'}, '6,5,4' ],
              [ 'notes_terms_idx', q{terms <-> '{2:2.9,8:0.8}/8'}, '3,4,7' ]) {
  my ($index, $order, $expect) = @$case;
  my $q = "SELECT id FROM public.notes ORDER BY $order LIMIT 3";
  like($node->safe_psql('fromplain', "SET enable_seqscan = off; SET ivfflat.probes = 2; EXPLAIN (COSTS OFF) $q"),
       qr/Index Scan using $index/, "fromplain: $index is used");
  is($node->safe_psql('fromplain', "SET enable_seqscan = off; SET ivfflat.probes = 2; SELECT string_agg(id::text, ',') FROM ($q) q"),
     $expect, "fromplain: $index finds $expect");
}

$node->stop;

# ---- ALTER EXTENSION ... UPDATE, and a real pgvector's files: a private copy of the installation
# (bin copied, so that the server finds share/ and lib/ relative to it; everything else linked),
# with a next version's upgrade script made by the generator the Makefile uses.
my ($bindir) = run_command([ 'pg_config', '--bindir' ]);
my ($sharedir) = run_command([ 'pg_config', '--sharedir' ]);
my ($pkglibdir) = run_command([ 'pg_config', '--pkglibdir' ]);
chomp($bindir, $sharedir, $pkglibdir);
my $tree = PostgreSQL::Test::Utils::tempdir();
my $install = "$tree/inst";
my ($sbin, $sshare, $slib) = map { "$tree$_" } ($bindir, $sharedir, $pkglibdir);
make_path($sbin, "$sshare/extension", $slib);
for my $f (glob("$bindir/*")) { copy($f, "$sbin/" . basename($f)) or die; chmod(0755, "$sbin/" . basename($f)); }
for my $f (glob("$sharedir/*")) { symlink($f, "$sshare/" . basename($f)) unless basename($f) eq 'extension'; }
for my $f (glob("$sharedir/extension/*")) { symlink($f, "$sshare/extension/" . basename($f)); }
for my $f (glob("$pkglibdir/*")) { symlink($f, "$slib/" . basename($f)); }
ok(-e "$sshare/extension/vector.control", 'the installation has the name vector');

# ragstore 0.1.0 -> 0.1.1 adds a function; the map gives vector 0.8.0 -> 0.8.0.1
my $up = "$tree/ragstore--0.1.0--0.1.1.sql";
open($fh, '>', $up) or die;
print $fh qq{\\echo Use "ALTER EXTENSION ragstore UPDATE" to load this file. \\quit\n}
        . qq{CREATE FUNCTION ragstore.upgrade_probe(v \@extschema\@.vector) RETURNS integer LANGUAGE sql AS 'SELECT 11';\n};
close $fh;
open($fh, '>', "$tree/vector_versions") or die;
print $fh "0.1.0 0.8.0\n0.1.1 0.8.0.1\n";
close $fh;
my ($rules) = run_command([ 'sh', 'scripts/vector_name.sh', 'upgrade-rules', "$tree/vector_versions", $up ]);
is($rules, "$up vector--0.8.0--0.8.0.1.sql", 'the generator names the vector upgrade step');
my ($vup) = run_command([ 'sh', 'scripts/vector_name.sh', 'vector-upgrade', $up ]);
copy($up, "$sshare/extension/ragstore--0.1.0--0.1.1.sql") or die;
open($fh, '>', "$sshare/extension/vector--0.8.0--0.8.0.1.sql") or die;
print $fh $vup;
close $fh;

my $inst = $bindir =~ s{/bin$}{}r;
my $unode = PostgreSQL::Test::Cluster->new('vector_name_update', install_path => "$tree$inst");
$unode->init;
$unode->start;
for my $db (qw(u_vector u_ragstore u_both)) { $unode->safe_psql('postgres', "CREATE DATABASE $db"); }
$unode->safe_psql('u_vector', 'CREATE EXTENSION vector; CREATE TABLE t (v vector(2)); INSERT INTO t VALUES (\'[1,1]\');');
$unode->safe_psql('u_ragstore', 'CREATE EXTENSION ragstore');
$unode->safe_psql('u_both', 'CREATE EXTENSION ragstore; CREATE EXTENSION vector;');

$unode->safe_psql('u_vector', q{ALTER EXTENSION vector UPDATE TO '0.8.0.1'});
is($unode->safe_psql('u_vector', q{SELECT extversion FROM pg_extension WHERE extname = 'vector'}), '0.8.0.1',
   'ALTER EXTENSION vector UPDATE: new version');
is($unode->safe_psql('u_vector', q{SELECT ragstore.upgrade_probe(v) FROM t}), '11', '... the step ran');
is($unode->safe_psql('u_vector', q{SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                                    WHERE d.objid = 'ragstore.upgrade_probe(vector)'::regprocedure AND d.deptype = 'e'}),
   'vector', '... and its object belongs to vector');

$unode->safe_psql('u_ragstore', q{ALTER EXTENSION ragstore UPDATE TO '0.1.1'});
is($unode->safe_psql('u_ragstore', q{SELECT extversion FROM pg_extension WHERE extname = 'ragstore'}), '0.1.1',
   'ALTER EXTENSION ragstore UPDATE: new version');
is($unode->safe_psql('u_ragstore', q{SELECT ragstore.upgrade_probe('[1,2]')}), '11', '... the step ran');

$unode->safe_psql('u_both', q{ALTER EXTENSION ragstore UPDATE TO '0.1.1'});
$unode->safe_psql('u_both', q{ALTER EXTENSION vector UPDATE TO '0.8.0.1'});
is($unode->safe_psql('u_both', q{SELECT string_agg(extname || '=' || extversion, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'}),
   'ragstore=0.1.1,vector=0.8.0.1', 'ragstore + alias: both updated');
is($unode->safe_psql('u_both', sprintf($members_sql, 'vector')), 'function ragstore.vector_name_alias(vector)',
   '... the alias still owns nothing else (the step did not run twice)');

# a real pgvector installed: the installer keeps its files, CREATE EXTENSION ragstore beside it fails cleanly
unlink(glob("$sshare/extension/vector*"));
open($fh, '>', "$sshare/extension/vector.control") or die;
print $fh "comment = 'stand-in for pgvector'\ndefault_version = '0.8.0'\nmodule_pathname = '\$libdir/vector'\nrelocatable = true\n";
close $fh;
open($fh, '>', "$sshare/extension/vector--0.8.0.sql") or die;
print $fh "CREATE DOMAIN vector AS real[];\n";
close $fh;
my $stand_in = slurp_file("$sshare/extension/vector.control");
my ($iout, $ierr) = run_command([ 'sh', 'scripts/vector_name.sh', 'install', "$sshare/extension", $slib,
                                  'vector.control', glob('vector--*.sql') ]);
like($ierr, qr/pgvector is installed .*ragstore installed under its own name only/, 'the installer says pgvector is there');
is(slurp_file("$sshare/extension/vector.control"), $stand_in, '... and leaves its control file alone');
is(slurp_file("$sshare/extension/vector--0.8.0.sql"), "CREATE DOMAIN vector AS real[];\n", '... and its script');

$unode->safe_psql('postgres', 'CREATE DATABASE pgv');
$unode->safe_psql('pgv', 'CREATE EXTENSION vector');
($ret, $out, $err) = $unode->psql('pgv', 'CREATE EXTENSION ragstore');
isnt($ret, 0, 'CREATE EXTENSION ragstore next to pgvector fails');
like($err, qr/extension "vector" \(pgvector\) is installed in this database/, '... saying so');
is($unode->safe_psql('pgv', q{SELECT count(*) FROM pg_namespace WHERE nspname = 'ragstore'}) . ','
   . $unode->safe_psql('pgv', q{SELECT count(*) FROM pg_extension WHERE extname = 'ragstore'}), '0,0',
   '... and leaves nothing behind');

$unode->stop;
done_testing();
