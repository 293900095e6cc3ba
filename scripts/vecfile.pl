#!/usr/bin/perl
# ragstore: converts the TEXMEX vector files (fvecs / ivecs, little-endian) into COPY streams,
# and generates deterministic stand-in data when the real data is absent. Perl only (present
# on every Debian machine with PostgreSQL), no module beyond the core ones.
#
#   vecfile.pl fvecs-copy FILE [LIMIT]   binary COPY of (id int4, v vector): ids 0.., exact floats
#   vecfile.pl ivecs-copy FILE [LIMIT]   text COPY of (id int4, neighbors int4[])
#   vecfile.pl jsonl-texts FILE MODEL_RE text COPY of (id int4, text) for the rows whose model
#                                        matches MODEL_RE, ids 0.. in file order
#   vecfile.pl generate DIR              writes DIR/{gen_l2,gen_cosine}/ with base.fvecs,
#                                        query.fvecs and exact ground truth (see below)
use strict;
use warnings;

my $cmd = shift // die "usage: vecfile.pl fvecs-copy|ivecs-copy|jsonl-texts|generate ...\n";

if ($cmd eq 'fvecs-copy') {
  my ($path, $limit) = @ARGV;
  open(my $fh, '<:raw', $path) or die "cannot open $path: $!\n";
  binmode STDOUT;
  # Binary COPY: signature, flags, header extension length; per row: field count, then
  # (length, bytes) per field; trailer -1. The vector field is vector_recv's form: int16 dim,
  # int16 unused, dim float4, all big-endian: the bits are copied, never printed and re-parsed.
  print "PGCOPY\n\377\r\n\0", pack('NN', 0, 0);
  my $id = 0;
  while (!defined($limit) || $id < $limit) {
    my $n = read($fh, my $hdr, 4);
    last if !$n;
    die "$path: truncated header\n" if $n != 4;
    my $d = unpack('l<', $hdr);
    die "$path: bad dimension $d\n" if $d < 1 || $d > 16000;
    read($fh, my $body, 4 * $d) == 4 * $d or die "$path: truncated vector $id\n";
    print pack('nNNN', 2, 4, $id, 4 + 4 * $d), pack('nn', $d, 0), pack('N*', unpack('V*', $body));
    $id++;
  }
  print pack('n', 0xffff);
} elsif ($cmd eq 'ivecs-copy') {
  my ($path, $limit) = @ARGV;
  open(my $fh, '<:raw', $path) or die "cannot open $path: $!\n";
  my $id = 0;
  while (!defined($limit) || $id < $limit) {
    my $n = read($fh, my $hdr, 4);
    last if !$n;
    my $k = unpack('l<', $hdr);
    read($fh, my $body, 4 * $k) == 4 * $k or die "$path: truncated row $id\n";
    print $id++, "\t{", join(',', unpack('l<*', $body)), "}\n";
  }
} elsif ($cmd eq 'jsonl-texts') {
  require JSON::PP;
  my ($path, $model_re) = @ARGV;
  open(my $fh, '<:encoding(UTF-8)', $path) or die "cannot open $path: $!\n";
  binmode STDOUT, ':encoding(UTF-8)';
  my $json = JSON::PP->new->allow_nonref;
  my $id = 0;
  while (my $line = <$fh>) {
    # Decode only the two string fields (JSON::PP on the whole line, embedding included, is
    # slow); a JSON string literal is "..." with backslash escapes.
    my ($model) = $line =~ /"model"\s*:\s*("(?:[^"\\]|\\.)*")/;
    my ($text) = $line =~ /"text"\s*:\s*("(?:[^"\\]|\\.)*")/;
    die "$path: line $.: no model or text\n" unless defined $model && defined $text;
    next unless $json->decode($model) =~ /$model_re/;
    my $t = $json->decode($text);
    $t =~ s/\\/\\\\/g; $t =~ s/\t/\\t/g; $t =~ s/\n/\\n/g; $t =~ s/\r/\\r/g;
    print $id++, "\t", $t, "\n";
  }
} elsif ($cmd eq 'generate') {
  generate(@ARGV);
} else {
  die "unknown command $cmd\n";
}

# Deterministic stand-in data (xorshift32, Marsaglia 2003, fixed seed; exact in Perl's integers), with exact
# ground truth computed here, independently of the database:
#   gen_l2:     2000 base x 64 dims, 50 queries, integer coordinates 0..7 (so squared L2
#               distances are exact integers in any precision and ties are common: they test the
#               lower-id tie rule), ground truth top-100 by L2, ties broken by lower id.
#   gen_cosine: 255 unit vectors x 256 dims (Gaussian via Box-Muller), self-query, ground truth
#               top-10 by cosine distance computed in double on the stored float32 values.
sub generate {
  my ($dir) = @_;
  require File::Path;
  File::Path::make_path("$dir/gen_l2", "$dir/gen_cosine");
  my $x = 2463534242;
  my $rand = sub {    # uniform in [0, 1)
    $x ^= ($x << 13) & 0xffffffff;
    $x ^= $x >> 17;
    $x ^= ($x << 5) & 0xffffffff;
    return $x / 4294967296;
  };
  {
    # gen_l2
    my ($n, $nq, $d) = (2000, 50, 64);
    my @base = map { [ map { int($rand->() * 8) } 1 .. $d ] } 1 .. $n;
    my @query = map { [ map { int($rand->() * 8) } 1 .. $d ] } 1 .. $nq;
    write_fvecs("$dir/gen_l2/base.fvecs", \@base);
    write_fvecs("$dir/gen_l2/query.fvecs", \@query);
    my @truth;
    for my $q (@query) {
      my @dist = map { my $b = $base[$_]; my $s = 0; $s += ($q->[$_] - $b->[$_])**2 for 0 .. $d - 1; $s } 0 .. $n - 1;
      push @truth, [ (sort { $dist[$a] <=> $dist[$b] || $a <=> $b } 0 .. $n - 1)[0 .. 99] ];
    }
    write_ivecs("$dir/gen_l2/groundtruth_l2.ivecs", \@truth);
  }
  {
    # gen_cosine
    my ($n, $d) = (255, 256);
    my @base;
    for (1 .. $n) {
      my @v = map { sqrt(-2 * log(1 - $rand->())) * cos(2 * 3.141592653589793 * $rand->()) } 1 .. $d;
      my $norm = 0; $norm += $_ * $_ for @v; $norm = sqrt($norm);
      push @base, [ unpack('f<*', pack('f<*', map { $_ / $norm } @v)) ];    # as stored: float32
    }
    write_fvecs("$dir/gen_cosine/base.fvecs", \@base);
    my @norm = map { my $s = 0; $s += $_ * $_ for @$_; sqrt($s) } @base;
    my @truth;
    for my $i (0 .. $n - 1) {
      my @dist = map {
        my ($x, $y) = ($base[$i], $base[$_]); my $s = 0; $s += $x->[$_] * $y->[$_] for 0 .. $d - 1;
        1 - $s / ($norm[$i] * $norm[$_])
      } 0 .. $n - 1;
      push @truth, [ (sort { $dist[$a] <=> $dist[$b] || $a <=> $b } 0 .. $n - 1)[0 .. 9] ];
    }
    write_ivecs("$dir/gen_cosine/groundtruth_cosine_selfquery.ivecs", \@truth);
  }
}

sub write_fvecs {
  my ($path, $rows) = @_;
  open(my $fh, '>:raw', $path) or die "cannot write $path: $!\n";
  print $fh pack('l<', scalar @$_), pack('f<*', @$_) for @$rows;
  close $fh;
}

sub write_ivecs {
  my ($path, $rows) = @_;
  open(my $fh, '>:raw', $path) or die "cannot write $path: $!\n";
  print $fh pack('l<', scalar @$_), pack('l<*', @$_) for @$rows;
  close $fh;
}
