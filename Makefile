# vbypass: a kernel series for VM guests that mix IOMMU-translated devices
# with devices that bypass the IOMMU, and the harness that boots it.
#
# The two commands of the README:
#   make demo    set up everything, boot the default topology, show devices
#   make check   run every test; the last line is "N passed, N failed"
# See the README for the others.
#
# Two kernel bases (harness/bases.py): mainline, the series to post
# (build/linux, patches/), and deb12, its Debian 12 backport
# (build/linux-deb12, backport/deb12/).  BASE=deb12 picks the backport for
# export, check-bisect and boot; make tree and make check cover both.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
BUILD := $(ROOT)/build
H := $(ROOT)/harness
ARCHES := x86_64 arm64
DEMO_SCENARIO ?= q35-vtd-bypass
SCENARIO ?= $(DEMO_SCENARIO)
BASE ?= mainline

# Guest program: static, so the initramfs needs no libraries.
GUEST_CFLAGS := -static -O2 -Wall -Wextra -Wno-format-truncation
CC_x86_64 := gcc
CC_arm64 := aarch64-linux-gnu-gcc

# The kselftest every guest runs as its last step comes with the series, in
# the kernel tree; it is built static like the guest program.  One
# initramfs serves both bases: its programs come from the mainline tree
# (build/linux) only, never from the backport's, even when mainline lacks
# them.
MAINLINE := $(BUILD)/linux
KSELFTESTS := $(MAINLINE)/tools/testing/selftests
KSELFTEST_SRC := $(KSELFTESTS)/iommu_groups/iommu_groups.c
KSELFTEST_CFLAGS := -static -O2 -Wall -Werror -I $(KSELFTESTS)

.PHONY: all deps tree tree-% export kernels kernel-% kernel-deb12-% \
	initramfs demo boot check check-all gates check-bisect test-harness \
	outgoing \
	clean distclean bench bench-kernel-% bench-kernel-deb12-% \
	bench-kernel-v1-deb12-% tree-v1-deb12 deb check-deb

all: check

# Debian packages, then QEMU 10 unpacked into build/qemu-10 (pinned, from
# bookworm-backports; scenarios with qemu = "10" boot it).
deps:
	@$(H)/deps.sh
	@$(H)/fetch-debs.sh qemu10

# Both trees; tree-mainline or tree-deb12 for one.
tree: tree-mainline tree-deb12

tree-%: deps
	@BASE=$* $(H)/tree.sh

export:
	@BASE=$(BASE) $(H)/export.sh

# kernel-ARCH: mainline (build/obj-ARCH); kernel-deb12-ARCH: the backport
# (build/obj-deb12-ARCH).  make picks the pattern with the shorter stem.
kernel-deb12-%: tree-deb12
	@BASE=deb12 $(H)/build-kernel.sh $*

kernel-%: tree-mainline
	@BASE=mainline $(H)/build-kernel.sh $*

kernels: $(addprefix kernel-,$(ARCHES))

# Kept after the initramfs is built: the harness self-test runs it too.
.PRECIOUS: $(BUILD)/vbinit-% $(BUILD)/kselftest-% $(BUILD)/dma_map_benchmark-%

$(BUILD)/vbinit-%: guest/vbinit.c
	@mkdir -p $(BUILD)
	$(CC_$*) $(GUEST_CFLAGS) -o $@ $<

# No initramfs without the kselftest: a missing source stops the build.
$(KSELFTEST_SRC):
	@echo "error: $@ is missing: the iommu_groups kselftest comes with the mainline series (make tree)" >&2; exit 1

$(BUILD)/kselftest-%: $(KSELFTEST_SRC) $(KSELFTESTS)/kselftest_harness.h
	@mkdir -p $(BUILD)
	$(CC_$*) $(KSELFTEST_CFLAGS) -o $@ $<

# x86_64 guests also get a shell, Debian's static busybox (make deps), and
# the admin guide's recipe that lists every PCI device with standard
# tools, taken word for word from the mainline tree (harness/recipe.py).
BUSYBOX := /bin/busybox
RECIPE_RST := $(MAINLINE)/Documentation/admin-guide/iommu-domains.rst
SHELL_ARGS_x86_64 := --busybox $(BUSYBOX) --recipe $(RECIPE_RST)

$(RECIPE_RST):
	@echo "error: $@ is missing: the admin guide comes with the mainline series (make tree)" >&2; exit 1

$(BUILD)/initramfs-%.cpio: $(BUILD)/vbinit-% $(BUILD)/kselftest-% \
		$(H)/initramfs.py $(H)/cpio.py $(H)/recipe.py $(RECIPE_RST) \
		guest/spoil-sysfs.sh
	python3 $(H)/initramfs.py $(SHELL_ARGS_$*) $(BUILD)/vbinit-$* \
		$(BUILD)/kselftest-$* $@

# The binaries are named too: the harness self-test runs the x86_64 one.
initramfs: $(foreach a,$(ARCHES),$(BUILD)/initramfs-$(a).cpio $(BUILD)/vbinit-$(a))

# make bench: the benchmark kernels (no debug options) and an initramfs that
# also holds the kernel's DMA mapping benchmark tool, built from the tree.
# (v7.3 keeps the tool in tools/dma and its header in include/uapi; 6.12
# had them in tools/testing/selftests/dma and include/linux.)
DMA_BENCH_SRC := $(MAINLINE)/tools/dma/dma_map_benchmark.c

$(BUILD)/dma_map_benchmark-%: $(DMA_BENCH_SRC)
	@mkdir -p $(BUILD)/bench-include/linux
	cp $(MAINLINE)/include/uapi/linux/map_benchmark.h $(BUILD)/bench-include/linux/
	$(CC_$*) -static -O2 -Wall -I $(BUILD)/bench-include -o $@ $<

$(BUILD)/initramfs-bench-%.cpio: $(BUILD)/vbinit-% $(BUILD)/kselftest-% \
		$(BUILD)/dma_map_benchmark-% $(H)/initramfs.py $(H)/cpio.py
	python3 $(H)/initramfs.py $(BUILD)/vbinit-$* $(BUILD)/kselftest-$* \
		$(BUILD)/dma_map_benchmark-$* $@

bench-kernel-%: tree-mainline
	@BASE=mainline $(H)/build-kernel.sh $* bench

bench-kernel-deb12-%: tree-deb12
	@BASE=deb12 $(H)/build-kernel.sh $* bench

# v1's benchmark kernel, for the matching cost: v1 of the 6.12 backport,
# frozen in bench/v1-deb12/ (harness/bases.py, BENCH).
bench-kernel-v1-deb12-%: tree-v1-deb12
	@BASE=v1-deb12 $(H)/build-kernel.sh $* bench

# Not part of make check: figures, not verdicts (see the README).
bench: deps
	@$(H)/deps.sh bench
	@$(MAKE) --no-print-directory $(addprefix bench-kernel-,$(ARCHES)) \
		bench-kernel-v1-deb12-x86_64 \
		$(foreach a,$(ARCHES),$(BUILD)/initramfs-bench-$(a).cpio)
	@python3 $(H)/bench.py

# Debian packages of the 6.12 backport, from Debian's own config reduced
# to a QEMU guest's modules, in build/deb/, installed into a scratch
# Debian 12 root beside Debian's own kernel (harness/deb.sh).
deb: deps tree-deb12
	@$(H)/deps.sh deb
	@$(H)/deb.sh build
	@$(H)/deb.sh root

# The scenarios of the packaged kernel (package = true), booted with the
# initramfs its package made.  Not part of make check: see the README.
check-deb: deb $(BUILD)/initramfs-x86_64.cpio
	@python3 $(H)/check.py --package

# The default topology, with its device table.
demo: deps kernel-x86_64 $(BUILD)/initramfs-x86_64.cpio
	@python3 $(H)/boot.py $(DEMO_SCENARIO)

# One scenario: make boot SCENARIO=name [BASE=deb12] [QEMU=7.2] (logs stay
# in build/runs/name/, build/runs/deb12/name/; name@qemuQ for a scenario
# that lists several QEMUs).
boot: deps
	@arch=$$(python3 $(H)/check.py --arch-of $(SCENARIO)); \
	kernel=kernel-$$arch; [ $(BASE) = mainline ] || kernel=kernel-$(BASE)-$$arch; \
	$(MAKE) --no-print-directory $$kernel $(BUILD)/initramfs-$$arch.cpio; \
	python3 $(H)/boot.py --base $(BASE) $(if $(QEMU),--qemu $(QEMU)) $(SCENARIO)

# The kernels come from check.py: mainline on both arches, the backport on
# the arches of its KUnit boots and backport scenarios (all for check-all).
check: deps
	@kernels=$$(python3 $(H)/check.py --kernels); \
	$(MAKE) --no-print-directory $$kernels initramfs
	@python3 $(H)/check.py

# make check on every base: every scenario, gate and KUnit boot on each.
check-all: deps
	@kernels=$$(python3 $(H)/check.py --all --kernels); \
	$(MAKE) --no-print-directory $$kernels initramfs
	@python3 $(H)/check.py --all

gates: deps tree
	@python3 $(H)/check.py --only gates

# The series as its sender would mail it (build/outgoing/BASE/), with the
# sender's own identity (GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL or git config;
# refused when unset or a placeholder), each patch's To/Cc from
# get_maintainer.pl, checked with git am and checkpatch --strict as sent.
# Nothing sends mail.
outgoing: deps tree-$(BASE)
	@python3 $(H)/outgoing.py --base $(BASE)

# Every patch of the base's series in turn builds for x86_64
# (bisectability); the record is the base's (harness/bases.py).
check-bisect: deps tree-$(BASE)
	@BASE=$(BASE) $(H)/bisect.sh

clean:
	rm -rf $(BUILD)/runs $(BUILD)/obj-* $(BUILD)/vbinit-* \
		$(BUILD)/kselftest-* $(BUILD)/*.cpio

# Also drops the kernel tree: refused by tree.sh's rules only if you use
# make tree; this removes it unconditionally.
distclean:
	rm -rf $(BUILD)
