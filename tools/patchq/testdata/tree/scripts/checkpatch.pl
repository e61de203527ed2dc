#!/usr/bin/perl
# Stand-in for the kernel's checkpatch.pl in the patchq tests: insists on
# --strict and --no-tree, flags added lines with trailing white space (ERROR)
# and added lines over 80 columns (CHECK), exits 1 when it reported anything.
use strict;
use warnings;

my ($strict, $notree, $file) = (0, 0, undef);
for my $a (@ARGV) {
	if ($a eq '--strict') { $strict = 1; }
	elsif ($a eq '--no-tree') { $notree = 1; }
	elsif ($a =~ /^-/) { }
	else { $file = $a; }
}
die "fake checkpatch: expected --strict\n" unless $strict;
die "fake checkpatch: expected --no-tree\n" unless $notree;
die "fake checkpatch: no file\n" unless defined $file;
open(my $fh, '<', $file) or die "fake checkpatch: $file: $!\n";
my ($n, $bad, $indiff) = (0, 0, 0);
while (my $l = <$fh>) {
	$n++;
	chomp $l;
	$indiff = 1 if $l =~ /^diff --git /;
	next unless $indiff && $l =~ /^\+/ && $l !~ /^\+\+\+ /;
	if ($l =~ /[ \t]$/) {
		print "$file:$n: ERROR:TRAILING_WHITESPACE: trailing whitespace\n";
		$bad++;
	}
	if (length($l) > 81) {
		print "$file:$n: CHECK:LONG_LINE: line over 80 columns\n";
		$bad++;
	}
}
exit($bad ? 1 : 0);
