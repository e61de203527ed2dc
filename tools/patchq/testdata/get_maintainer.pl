#!/usr/bin/perl
# Stand-in for the kernel's scripts/get_maintainer.pl in the patchq tests:
# insists on --no-git --no-git-fallback and on running at the top of the
# tree (as the real one does), and prints its default output format for the
# paths the patch touches: lib/ has a maintainer, a reviewer and a list,
# README a maintainer and a list, everything the catch-all list.
use strict;
use warnings;

my ($nogit, $nofallback, $patch) = (0, 0, undef);
for my $a (@ARGV) {
	if ($a eq '--no-git') { $nogit = 1; }
	elsif ($a eq '--no-git-fallback') { $nofallback = 1; }
	elsif ($a =~ /^-/) { die "get_maintainer stand-in: unexpected option $a\n"; }
	else { $patch = $a; }
}
die "get_maintainer stand-in: wants --no-git --no-git-fallback\n" unless $nogit && $nofallback;
die "get_maintainer stand-in: not at the top of a tree\n" unless -f 'Makefile' && -d 'lib';
open(my $fh, '<', $patch) or die "get_maintainer stand-in: $patch: $!\n";
my (%lib, %readme);
while (<$fh>) {
	$lib{1} = 1 if m{^\+\+\+ b/lib/};
	$readme{1} = 1 if m{^\+\+\+ b/README$};
}
if ($lib{1}) {
	print "Lib Maintainer <lib\@example.invalid> (maintainer:LIB)\n";
	print "\"Rev, Lib\" <librev\@example.invalid> (reviewer:LIB)\n";
	print "lib-list\@example.invalid (open list:LIB)\n";
}
if ($readme{1}) {
	print "Doc Maintainer <doc\@example.invalid> (maintainer:DOCUMENTATION)\n";
	print "docs\@example.invalid (open list:DOCUMENTATION)\n";
}
print "all\@example.invalid (open list)\n";
