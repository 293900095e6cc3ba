#!/usr/bin/env perl
# SYNTHETIC data for the scale-out benchmarks: a deterministic Gaussian mixture, as described in
# ../shared/data/README.md (the real files stop at 9k rows): n/100 cluster centres drawn
# N(0, 4^2) per coordinate, each point = a random centre + N(0, 1) noise per coordinate.
#
#   gen_mixture.pl --rows N [--dim D] [--seed S] [--centres C] [--first-id I] [--centre-seed S2]
#
# Prints COPY text lines "id<TAB>[x1,...,xD]" (ids from --first-id, default 1). The centres
# depend only on --centre-seed (default 1), the points on --seed, so queries drawn with another
# --seed come from the same mixture as the base rows. Perl's rand() is drand48 (same sequence
# on every platform since Perl 5.20). Values are printed with 5 significant digits.
use strict;
use warnings;
use Getopt::Long;

my ($rows, $dim, $seed, $centres, $first_id, $centre_seed) = (1000, 128, 2, 0, 1, 1);
GetOptions('rows=i' => \$rows, 'dim=i' => \$dim, 'seed=i' => \$seed, 'centres=i' => \$centres,
           'first-id=i' => \$first_id, 'centre-seed=i' => \$centre_seed)
  or die "usage: $0 --rows N [--dim D] [--seed S] [--centres C] [--first-id I]\n";
die "--rows and --dim must be positive\n" if $rows < 1 || $dim < 1;
$centres ||= ($rows >= 200 ? int($rows / 100) : 2);

use constant TWO_PI => 6.283185307179586;
my $spare;
sub gauss {    # Box-Muller, one pair of uniforms -> two independent N(0,1)
  if (defined $spare) { my $g = $spare; undef $spare; return $g; }
  my $u1 = 1.0 - rand();    # (0, 1]
  my $u2 = rand();
  my $r = sqrt(-2.0 * log($u1));
  $spare = $r * sin(TWO_PI * $u2);
  return $r * cos(TWO_PI * $u2);
}

srand($centre_seed);
my @centre;
for my $c (0 .. $centres - 1) {
  $centre[$c] = [ map { 4.0 * gauss() } 1 .. $dim ];
}
undef $spare;
srand($seed);
for my $i (0 .. $rows - 1) {
  my $c = $centre[ int(rand($centres)) ];
  my @v = map { sprintf('%.5g', $c->[$_] + gauss()) } 0 .. $dim - 1;
  print $first_id + $i, "\t[", join(',', @v), "]\n";
}
