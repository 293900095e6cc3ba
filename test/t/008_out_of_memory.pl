# Fault test: out of memory inside a backend. The address-space limit (RLIMIT_AS, `prlimit`)
# of one backend is lowered to a few megabytes above what it uses, then it builds hnsw (in
# memory: the core graph's standard containers, FAISS threads) and ivfflat indexes (FAISS
# k-means) and runs scans. Each attempt must either succeed or fail with a clean SQL error
# (53200 out of memory), never crash the server; the session keeps working afterwards, no index
# is left behind, and the indexes verify clean.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use RagstoreTest qw(verify_clean);

if (system('prlimit --version >/dev/null 2>&1') != 0) {
  plan skip_all => 'prlimit (util-linux) is not installed';
}
# A server built with AddressSanitizer (scripts/test.sh asan) reserves terabytes of address space
# at start and its allocator reports a failed allocation itself (and ends the process) instead
# of returning NULL or throwing std::bad_alloc: the limit would test the sanitizer, not ragstore.
my ($bindir) = PostgreSQL::Test::Utils::run_command([ 'pg_config', '--bindir' ]);
chomp $bindir;
if (`ldd '$bindir/postgres' 2>/dev/null` =~ /libasan/) {
  plan skip_all => 'the server is built with AddressSanitizer, whose allocator handles running out of memory itself';
}

my $node = PostgreSQL::Test::Cluster->new('out_of_memory');
$node->init;
# (no JIT: loading LLVM under the limit would fail first, and it is not ours)
$node->append_conf('postgresql.conf', "autovacuum = off\njit = off\nmaintenance_work_mem = '512MB'\nwork_mem = '64MB'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ragstore');
$node->safe_psql('postgres', q{SELECT setseed(0.9); CREATE TABLE items (id int PRIMARY KEY, embedding vector(64));
  INSERT INTO items SELECT i, ARRAY(SELECT random() FROM generate_series(1, 64) WHERE i > 0)::vector
  FROM generate_series(1, 5000) i;
  CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_cosine_ops) WITH (lists = 20)});

my %ops = (
  'hnsw build' => q{SET ragstore.max_threads = 2; CREATE INDEX tmp_idx ON items USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 40)},
  'ivfflat build' => q{SET ragstore.max_threads = 2; CREATE INDEX tmp_idx ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 150)},
  'ivfflat scans' => q{SET enable_seqscan = off; SET ivfflat.probes = 20; SELECT sum((SELECT count(*) FROM
    (SELECT id FROM items ORDER BY embedding <=> q.v LIMIT 5000) s)) FROM (SELECT embedding AS v FROM items LIMIT 5) q},
);

# Runs $sql in a session whose address-space limit is set to its current size + $margin_mb.
# The limit is lifted by the session's own psql right after the statement (`\!` runs on the
# client, so lifting it needs nothing from the limited backend, and it happens whether the
# statement succeeded, failed or took long): PostgreSQL itself needs room to go on, the point is
# that the backend is still there and answers.
sub run_limited {
  my ($sql, $margin_mb) = @_;
  my ($out, $err) = ('', '');
  my $pidfile = $node->basedir . '/oom_victim.pid';
  unlink $pidfile;
  # (the library is loaded before the session names itself, so the test measures and limits a
  # backend that has loaded it: loading it needs room too; the session waits in pg_sleep(3)
  # while the test sets the limit)
  my $script = "SELECT '[1]'::vector;\nSET application_name = 'oom_victim';\nSELECT pg_sleep(3);\n\\set VERBOSITY verbose\n$sql;\n"
    . "\\! prlimit --pid \"\$(cat '$pidfile')\" --as=unlimited:\n"
    . "SELECT 'alive:' || count(*) FROM items;\n";
  # (a file, not stdin: IPC::Run feeds stdin only while it is pumped)
  my $file = $node->basedir . '/oom_victim.sql';
  unlink $file;
  PostgreSQL::Test::Utils::append_to_file($file, $script);
  my $h = IPC::Run::start([ 'psql', '-X', '-q', '-At', '-d', $node->connstr('postgres'), '-f', $file ],
    '>', \$out, '2>', \$err);
  my $pid = '';
  for (1 .. 100) {
    $pid = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE application_name = 'oom_victim'});
    last if $pid ne '';
    usleep(20_000);
  }
  die 'the victim session did not start' if $pid eq '';
  my ($vm) = slurp_file("/proc/$pid/status") =~ /VmSize:\s+(\d+) kB/;
  my $limit = ($vm + $margin_mb * 1024) * 1024;
  PostgreSQL::Test::Utils::append_to_file($pidfile, $pid);
  system("prlimit --pid $pid --as=$limit:") == 0 or die "prlimit failed for $pid";
  $h->finish;
  # the backend ends with its session (nothing left stuck, e.g. in a thread pool)
  my $gone = $node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid");
  ok($gone, "backend $pid ended with its session") or diag(`ps -o pid,stat,wchan:30,cmd -p $pid`);
  return ($out, $err, $vm);
}

my ($faults, $ok_runs) = (0, 0);
for my $name (sort keys %ops) {
  for my $margin (4, 24, 128, 1024) {
    my ($out, $err, $vm) = run_limited($ops{$name}, $margin);
    my $label = "$name with ${margin} MB above the backend's ${vm} kB";
    my $oom = $err =~ /ERROR:\s+53200: out of memory/;
    $faults++ if $oom;
    $ok_runs++ if !$oom;
    my @other = grep { /ERROR/ && !/53200: out of memory/ } split /\n/, $err;
    is(join("\n", @other), '', "$label: " . ($oom ? 'a clean out-of-memory error (53200)' : 'succeeded'));
    like($out, qr/alive:5000/, "$label: the session keeps working") or diag("psql's errors:\n$err");
    if ($name =~ /build/) {
      is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'tmp_idx'}), $oom ? '0' : '1',
         "$label: " . ($oom ? 'no index left behind' : 'the index exists'));
      $node->safe_psql('postgres', 'DROP INDEX IF EXISTS tmp_idx');
    }
  }
}
note("out-of-memory errors: $faults; runs that fit: $ok_runs");
cmp_ok($faults, '>=', 3, "the limits made some attempts run out of memory ($faults)");
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'}), '1',
   'no other session was reset');
verify_clean($node, 'postgres', 'after the out-of-memory errors');
unlike(slurp_file($node->logfile), qr/terminated by signal|was terminated|PANIC|TRAP|server process .* exited with exit code [^0]/,
  'no backend crashed');
$node->stop;
done_testing();
