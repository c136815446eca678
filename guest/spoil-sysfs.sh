#!/bin/sh
# The negative test of the kselftest: make two sysfs values disagree with
# the ABI without touching the kernel, by bind-mounting a file over each.
# The first IOMMU group's type reads "bogus" (not a documented type), and
# a member of the last group, another one, reads "none" in its
# iommu_translation although its group has a default domain.
set -e
mkdir -p /tmp
echo bogus > /tmp/type
echo none > /tmp/translation
first= last=
for g in /sys/kernel/iommu_groups/*; do
	[ -e "$g/type" ] || continue
	[ -n "$first" ] || first=$g
	last=$g
done
if [ -z "$first" ] || [ "$first" = "$last" ]; then
	echo "spoil: needs two IOMMU groups"
	exit 1
fi
for d in "$last"/devices/*; do
	mount --bind /tmp/translation "$d/iommu_translation"
	mount --bind /tmp/type "$first/type"
	echo "spoil: $first/type reads bogus, $d/iommu_translation reads none"
	exit 0
done
echo "spoil: $last has no member"
exit 1
