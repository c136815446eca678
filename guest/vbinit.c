// SPDX-License-Identifier: GPL-2.0
/*
 * vbinit: the /init of the harness's guests.
 *
 * It reads the plan the host packed into the initramfs, or into the file
 * system of the boot disk the guest runs from (/vb/plan), reports
 * every PCI device (group, group type, IOMMU, interrupt mode), runs the DMA
 * check on every disk the plan names, and writes all of it, line by line, to
 * the verdict channel the plan names (a UART or virtio console that carries
 * nothing else).  Every step that touches a device runs in a child process
 * under a watchdog, so a hung DMA fails its check instead of stalling the
 * run.  It finishes by powering the guest off.
 *
 * Steps are numbered from 1 in plan order; every line a step prints carries
 * its number, so the host can judge each step apart.
 *
 * Output lines ("VB <kind> key=value ..."; values contain no blanks).  What
 * a program the guest runs prints is wrapped (ktap, out): the channel carries
 * nothing else, and the host fails a boot on any other line.
 *   VB start plan=<n steps>
 *   VB dev step= bdf= id= class= driver= group= type= iommu= irq= serial=
 *          master= state=   (bus mastering on/off; iommu_translation, or -)
 *   VB dma step= serial= bdf= dev= read= write= irqcpus= detail=
 *   VB bind step= bdf= rc=
 *   VB step step= name= ... rc=
 *   VB hotplug-ready step= id= bdf=     (the host now plugs the device)
 *   VB hotplug step= id= bdf= state= secs=
 *   VB ktap <a line of the kselftest's output>
 *   VB out <a line of an exec step's program output, before its step line>
 *   VB kselftest step= rc=
 *   VB stress step= serial= bdf= ops= bytes= mismatches= errors= detail=
 *   VB flip step= bdf= writes= errors= final= detail=
 *   VB blk step= serial= bdf= round= seqread= seqwrite= randread= rc= detail=
 *   VB trace step= event= <the event's fields>
 *   VB end
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <sched.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define PLAN_PATH	"/vb/plan"
#define CHUNK		(64 * 1024)
#define MAX_DISKS	32
#define PCI_DIR		"/sys/bus/pci/devices"
#define KSELFTEST	"/vb/kselftest"
#define KSELFTEST_SECS	120	/* the whole kselftest binary */
#define HOTPLUG_SECS	60	/* for a hot-plugged disk to be ready */

struct disk {
	char serial[64];
	char file[64];		/* the boot disk: check this file, not the disk */
	uint64_t size;		/* bytes, from the host's image */
	uint64_t hash;		/* FNV-1a 64 of its data: host's, then ours */
	uint64_t seed;		/* seed of the data the guest writes */
	int pending;		/* to be hot-plugged by a later step */
};

static FILE *out;		/* verdict channel */
static int io_timeout = 60;	/* seconds, per I/O step */
static int disk_wait = 30;	/* seconds to wait for the plan's disks */
static struct disk disks[MAX_DISKS];
static int ndisks;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
	/* Mirror to the console so a person reading the boot log sees it. */
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Hash and generator shared with the host (harness/dmadata.py). */
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Fill buf with the little-endian 64-bit words of the stream. */
static void gen(uint64_t *state, unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = xorshift(state);

		for (int b = 0; b < 8; b++)
			buf[i + b] = v >> (8 * b);
	}
}

/* FNV-1a of the stream's first size bytes (size: whole chunks). */
static uint64_t stream_hash(uint64_t seed, uint64_t size)
{
	static unsigned char buf[CHUNK];
	uint64_t h = FNV_INIT;

	for (uint64_t off = 0; off < size; off += CHUNK) {
		gen(&seed, buf, CHUNK);
		h = fnv1a(h, buf, CHUNK);
	}
	return h;
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = 0;
	return 0;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* basename of a symlink's target, or "none" */
static void link_base(const char *path, char *buf, size_t len)
{
	char tmp[512];
	ssize_t n = readlink(path, tmp, sizeof(tmp) - 1);
	char *b;

	if (n < 0) {
		snprintf(buf, len, "none");
		return;
	}
	tmp[n] = 0;
	b = strrchr(tmp, '/');
	snprintf(buf, len, "%s", b ? b + 1 : tmp);
}

/* Bus mastering of a PCI function, from its command register: on or off. */
static void bus_master(const char *dev, char *buf, size_t len)
{
	unsigned char cmd[2];
	char p[512];
	int fd;

	snprintf(buf, len, "-");
	snprintf(p, sizeof(p), "%s/%s/config", PCI_DIR, dev);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return;
	if (pread(fd, cmd, sizeof(cmd), 4) == sizeof(cmd))
		snprintf(buf, len, "%s", cmd[0] & 0x4 ? "on" : "off");
	close(fd);
}

static void nospace(char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			*s = '_';
}

/* Does any handler sit on this IRQ line?  (/proc/irq/N/ has a directory
 * per registered action.) */
static int irq_has_handler(const char *irq)
{
	char path[64];
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/irq/%s", irq);
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (de = readdir(d)))
		found = de->d_type == DT_DIR && de->d_name[0] != '.';
	closedir(d);
	return found;
}

/*
 * MSI-X or MSI (vectors allocated), INTx (a driver is bound and a handler
 * sits on the legacy line), or none.
 */
static void irq_mode(const char *dev, const char *driver, char *buf, size_t len)
{
	char path[512], mode[32], irq[32];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/msi_irqs", PCI_DIR, dev);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			char p2[700];

			if (de->d_name[0] == '.')
				continue;
			snprintf(p2, sizeof(p2), "%s/%s", path, de->d_name);
			if (!read_str(p2, mode, sizeof(mode))) {
				closedir(d);
				snprintf(buf, len, "%s",
					 strcmp(mode, "msix") ? "MSI" : "MSI-X");
				return;
			}
		}
		closedir(d);
	}
	snprintf(path, sizeof(path), "%s/%s/irq", PCI_DIR, dev);
	if (strcmp(driver, "none") && !read_str(path, irq, sizeof(irq)) &&
	    strcmp(irq, "0") && irq_has_handler(irq))
		snprintf(buf, len, "INTx");
	else
		snprintf(buf, len, "none");
}

#define GUARD_HANG	(-1)	/* the child did not finish in time */
#define GUARD_ERROR	(-2)	/* it could not be run, or was killed */

/*
 * Run fn(arg, buf, len) in a child under the watchdog: anything that can
 * issue I/O to a device goes through here, since a device whose
 * interrupts never arrive would otherwise hang init itself.  fn writes a
 * detail into buf and returns an exit code.  Returns that code, or
 * GUARD_HANG (the child is left behind, stuck in the kernel) or
 * GUARD_ERROR; buf gets fn's detail, or says "hang" or "error".
 */
static int guarded(int (*fn)(const void *, char *, size_t), const void *arg,
		   char *buf, size_t len, int secs)
{
	struct timespec t0, t;
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	snprintf(buf, len, "error");
	fflush(NULL);
	if (pipe(pfd))
		return GUARD_ERROR;
	pid = fork();
	if (pid < 0)
		return GUARD_ERROR;
	if (!pid) {
		char tmp[256] = "";
		int rc;

		close(pfd[0]);
		rc = fn(arg, tmp, sizeof(tmp));
		if (write(pfd[1], tmp, strlen(tmp) + 1) < 0)
			rc = 125;
		_exit(rc);
	}
	close(pfd[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (waitpid(pid, &status, WNOHANG) != pid) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= secs) {
			kill(pid, SIGKILL);
			close(pfd[0]);
			snprintf(buf, len, "hang");
			return GUARD_HANG;
		}
		usleep(20 * 1000);
	}
	n = read(pfd[0], buf, len - 1);
	close(pfd[0]);
	buf[n > 0 ? n : 0] = 0;
	if (n <= 0)
		snprintf(buf, len, "-");
	nospace(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : GUARD_ERROR;
}

static int read_serial_fn(const void *path, char *buf, size_t len)
{
	return read_str(path, buf, len) ? 1 : 0;
}

/*
 * The block device of a virtio-blk disk behind this PCI function: its
 * name into blk and the path of its serial attribute into spath.  Only
 * sysfs is read, never the device.  Returns 1 when there is one.
 */
static int find_block(const char *dev, char *spath, size_t slen, char *blk,
		      size_t blen)
{
	char path[512];
	struct dirent *de, *be;
	DIR *d, *b;

	spath[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", PCI_DIR, dev);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && !spath[0]) {
		char bpath[700];

		if (strncmp(de->d_name, "virtio", 6))
			continue;
		snprintf(bpath, sizeof(bpath), "%s/%s/block", path, de->d_name);
		b = opendir(bpath);
		if (!b)
			continue;
		while ((be = readdir(b))) {
			if (be->d_name[0] == '.')
				continue;
			snprintf(spath, slen, "%s/%s/serial", bpath, be->d_name);
			snprintf(blk, blen, "%s", be->d_name);
			break;
		}
		closedir(b);
	}
	closedir(d);
	return spath[0] != 0;
}

/* Serials already read, and functions whose serial read hung. */
static struct {
	char bdf[32], serial[64], blk[32];
} serial_cache[64];
static int serial_cached;

/*
 * Drop every remembered serial: after an unbind, a bind, a hotplug or any
 * run-time write, a disk may be gone or back under another /dev name.
 */
static void forget_serials(void)
{
	serial_cached = 0;
}

/*
 * The serial (and block device) of a virtio-blk disk behind this PCI
 * function, or "-".  Reading it sends a request to the device, so it runs
 * under the watchdog; an answer, or a hang, is remembered until
 * forget_serials().
 */
static void dev_serial(const char *dev, char *buf, size_t len, char *blk,
		       size_t blen)
{
	char spath[1000], lblk[32] = "-";
	int rc;

	snprintf(buf, len, "-");
	if (blk)
		snprintf(blk, blen, "-");
	for (int i = 0; i < serial_cached; i++) {
		if (!strcmp(serial_cache[i].bdf, dev)) {
			snprintf(buf, len, "%s", serial_cache[i].serial);
			if (blk)
				snprintf(blk, blen, "%s", serial_cache[i].blk);
			return;
		}
	}
	if (!find_block(dev, spath, sizeof(spath), lblk, sizeof(lblk)))
		return;		/* no disk (yet): ask again next time */
	if (blk)
		snprintf(blk, blen, "%s", lblk);
	rc = guarded(read_serial_fn, spath, buf, len, 10);
	if (rc == GUARD_HANG)
		snprintf(buf, len, "hang");
	else if (rc || !strcmp(buf, "-") || !buf[0])
		snprintf(buf, len, "-");
	if (serial_cached < 64) {
		snprintf(serial_cache[serial_cached].bdf, 32, "%s", dev);
		snprintf(serial_cache[serial_cached].serial, 64, "%s", buf);
		snprintf(serial_cache[serial_cached].blk, 32, "%s", lblk);
		serial_cached++;
	}
}

static int cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void report_devices(int step)
{
	struct dirent **list;
	int n = scandir(PCI_DIR, &list, NULL, cmp_name);

	for (int i = 0; i < n; i++) {
		const char *dev = list[i]->d_name;
		char p[512], ven[16], did[16], cls[16], drv[64], grp[32];
		char type[32] = "none", iommu[96], irq[16], serial[64];
		char master[8], state[32];

		if (dev[0] == '.') {
			free(list[i]);
			continue;
		}
		snprintf(p, sizeof(p), "%s/%s/vendor", PCI_DIR, dev);
		read_str(p, ven, sizeof(ven));
		snprintf(p, sizeof(p), "%s/%s/device", PCI_DIR, dev);
		read_str(p, did, sizeof(did));
		snprintf(p, sizeof(p), "%s/%s/class", PCI_DIR, dev);
		read_str(p, cls, sizeof(cls));
		snprintf(p, sizeof(p), "%s/%s/driver", PCI_DIR, dev);
		link_base(p, drv, sizeof(drv));
		snprintf(p, sizeof(p), "%s/%s/iommu_group", PCI_DIR, dev);
		link_base(p, grp, sizeof(grp));
		if (strcmp(grp, "none")) {
			snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%s/type",
				 grp);
			if (read_str(p, type, sizeof(type)))
				snprintf(type, sizeof(type), "unknown");
			nospace(type);
		}
		snprintf(p, sizeof(p), "%s/%s/iommu", PCI_DIR, dev);
		link_base(p, iommu, sizeof(iommu));
		irq_mode(dev, drv, irq, sizeof(irq));
		dev_serial(dev, serial, sizeof(serial), NULL, 0);
		bus_master(dev, master, sizeof(master));
		snprintf(p, sizeof(p), "%s/%s/iommu_translation", PCI_DIR, dev);
		if (read_str(p, state, sizeof(state)) || !state[0])
			snprintf(state, sizeof(state), "-");
		nospace(state);
		say("VB dev step=%d bdf=%s id=%s:%s class=%s driver=%s group=%s type=%s iommu=%s irq=%s serial=%s master=%s state=%s",
		    step, dev, ven + 2, did + 2, cls, drv, grp, type, iommu,
		    irq, serial, master, state);
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

/* Find the PCI function and block device of a disk by its serial. */
static int find_disk(const char *serial, char *bdf, size_t blen, char *blk,
		     size_t klen)
{
	struct dirent *de;
	DIR *d = opendir(PCI_DIR);
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		char s[64];

		if (de->d_name[0] == '.')
			continue;
		dev_serial(de->d_name, s, sizeof(s), blk, klen);
		if (!strcmp(s, serial)) {
			snprintf(bdf, blen, "%s", de->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

struct dma_job {
	const struct disk *dk;
	const char *blk;
	int writing;
};

/*
 * One direction of the DMA check, run under guarded().  Returns 0 when the
 * data matched, 1 on a mismatch, 2 on an I/O error; the detail says where.
 */
/*
 * Issue each chunk from the next CPU in turn: blk-mq submits on the CPU's
 * own queue, whose interrupt is affine to that CPU, so with several CPUs
 * every one of them has to receive the disk's interrupts.
 */
static void spread(uint64_t off)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (ncpu <= 1)
		return;
	CPU_ZERO(&set);
	CPU_SET((off / CHUNK) % ncpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * How many CPUs have received interrupts of this function's MSI/MSI-X
 * vectors so far (from /proc/interrupts); 0 when it has none.
 */
static int irq_cpus(const char *bdf)
{
	char path[512], line[4096];
	unsigned long long seen = 0;
	struct dirent *de;
	int n = 0;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/msi_irqs", PCI_DIR, bdf);
	d = opendir(path);
	f = fopen("/proc/interrupts", "r");
	if (!d || !f || !fgets(line, sizeof(line), f))
		goto out;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		long irq = strtol(p, &end, 10);
		int match = 0;

		if (end == p || *end != ':')
			continue;
		rewinddir(d);
		while (!match && (de = readdir(d)))
			match = de->d_name[0] != '.' && atol(de->d_name) == irq;
		if (!match)
			continue;
		p = end + 1;
		for (int cpu = 0; cpu < 64; cpu++) {
			unsigned long long c = strtoull(p, &end, 10);

			if (end == p)
				break;
			if (c)
				seen |= 1ULL << cpu;
			p = end;
		}
	}
	for (; seen; seen &= seen - 1)
		n++;
out:
	if (f)
		fclose(f);
	if (d)
		closedir(d);
	return n;
}

static int dma_fn(const void *arg, char *detail, size_t dlen)
{
	const struct dma_job *job = arg;
	const struct disk *dk = job->dk;
	uint64_t h = FNV_INIT, state = dk->seed, size = 0, off;
	unsigned char *buf, *ref;
	char path[64];
	struct stat st;
	int fd;

	snprintf(detail, dlen, "ok");
	if (dk->file[0])
		snprintf(path, sizeof(path), "%s", dk->file);
	else
		snprintf(path, sizeof(path), "/dev/%s", job->blk);
	if (posix_memalign((void **)&buf, 4096, CHUNK) ||
	    posix_memalign((void **)&ref, 4096, CHUNK))
		return 2;
	fd = open(path, (job->writing ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		snprintf(detail, dlen, "open:%s", strerror(errno));
		return 2;
	}
	if (dk->file[0])
		size = fstat(fd, &st) ? 0 : (uint64_t)st.st_size;
	else if (ioctl(fd, BLKGETSIZE64, &size))
		size = 0;
	if (size != dk->size) {
		snprintf(detail, dlen, "size:%" PRIu64 "!=%" PRIu64, size,
			 dk->size);
		return 1;
	}
	if (job->writing) {
		/* Fresh data from the seed, written, then read back. */
		for (off = 0; off < size; off += CHUNK) {
			spread(off);
			gen(&state, buf, CHUNK);
			if (pwrite(fd, buf, CHUNK, off) != CHUNK) {
				snprintf(detail, dlen, "write@%" PRIu64 ":%s",
					 off, strerror(errno));
				return 2;
			}
		}
		if (fdatasync(fd)) {
			snprintf(detail, dlen, "fdatasync:%s", strerror(errno));
			return 2;
		}
		state = dk->seed;
	}
	for (off = 0; off < size; off += CHUNK) {
		spread(off);
		memset(buf, 0x5a, CHUNK);
		if (pread(fd, buf, CHUNK, off) != CHUNK) {
			snprintf(detail, dlen, "read@%" PRIu64 ":%s", off,
				 strerror(errno));
			return 2;
		}
		if (!job->writing) {
			h = fnv1a(h, buf, CHUNK);
			continue;
		}
		gen(&state, ref, CHUNK);
		if (memcmp(buf, ref, CHUNK)) {
			snprintf(detail, dlen, "readback-mismatch@%" PRIu64,
				 off);
			return 1;
		}
	}
	if (!job->writing && h != dk->hash) {
		snprintf(detail, dlen, "hash:%016" PRIx64 "!=%016" PRIx64, h,
			 dk->hash);
		return 1;
	}
	return 0;
}

/* "pass", "fail", "error" or "hang" for one direction of the check. */
static const char *dma_step(const struct disk *dk, const char *blk,
			    int writing, char *detail, size_t dlen)
{
	struct dma_job job = { dk, blk, writing };

	switch (guarded(dma_fn, &job, detail, dlen, io_timeout)) {
	case 0:
		return "pass";
	case 1:
		return "fail";
	case GUARD_HANG:
		snprintf(detail, dlen, "no-completion-in-%ds", io_timeout);
		return "hang";
	default:
		return "error";
	}
}

/*
 * The DMA check of one disk.  Once the guest has written its stream, that
 * stream is what a later check of the same disk must read back.
 */
static void dma_check(int step, struct disk *dk)
{
	char bdf[64] = "-", blk[32] = "-", d1[256], d2[256] = "-";
	const char *r, *w = "not-run";

	if (!find_disk(dk->serial, bdf, sizeof(bdf), blk, sizeof(blk))) {
		say("VB dma step=%d serial=%s bdf=- dev=- read=absent write=absent irqcpus=0 detail=no-block-device",
		    step, dk->serial);
		return;
	}
	r = dma_step(dk, blk, 0, d1, sizeof(d1));
	/* A hung read leaves the queue stuck: do not pile a write on it. */
	if (strcmp(r, "hang")) {
		w = dma_step(dk, blk, 1, d2, sizeof(d2));
		dk->hash = stream_hash(dk->seed, dk->size);
	}
	say("VB dma step=%d serial=%s bdf=%s dev=%s read=%s write=%s irqcpus=%d detail=%s,%s",
	    step, dk->serial, bdf, blk, r, w, irq_cpus(bdf), d1, d2);
}

/* Every disk of the plan is there, except those still to be hot-plugged. */
static int all_disks_present(void)
{
	char bdf[64], blk[32];

	for (int i = 0; i < ndisks; i++)
		if (!disks[i].pending &&
		    !find_disk(disks[i].serial, bdf, sizeof(bdf), blk,
			       sizeof(blk)))
			return 0;
	return 1;
}

/* Wait (once) for the plan's disks to show up: probing may be deferred. */
static void wait_disks(void)
{
	static int waited;

	for (int i = 0; !waited && i < disk_wait * 10 &&
	     !all_disks_present(); i++)
		usleep(100 * 1000);
	waited = 1;
}

static int bind_fn(const void *arg, char *buf, size_t len)
{
	const char *dev = arg;
	char path[256];
	int rc;

	rc = write_str("/sys/bus/pci/drivers/pci-stub/unbind", dev);
	if (!rc) {
		snprintf(path, sizeof(path), "%s/%s/driver_override", PCI_DIR,
			 dev);
		rc = write_str(path, "virtio-pci");
	}
	if (!rc)
		rc = write_str("/sys/bus/pci/drivers_probe", dev);
	snprintf(buf, len, "%d", rc);
	return 0;
}

/*
 * "bind-held": scenarios that expect a disk may never complete I/O boot
 * with its function held by pci-stub (the kernel's own probe would hang in
 * the partition scan, and the boot with it).  Bind each held function to
 * virtio-pci here, each under the watchdog: a hang then fails that disk's
 * checks only.
 */
static void step_bind_held(int step)
{
	struct dirent **list;
	int n = scandir(PCI_DIR, &list, NULL, cmp_name);

	for (int i = 0; i < n; i++) {
		char p[512], drv[64], res[64];
		const char *dev = list[i]->d_name;

		snprintf(p, sizeof(p), "%s/%s/driver", PCI_DIR, dev);
		link_base(p, drv, sizeof(drv));
		if (dev[0] != '.' && !strcmp(drv, "pci-stub")) {
			guarded(bind_fn, dev, res, sizeof(res), io_timeout);
			say("VB bind step=%d bdf=%s rc=%s", step, dev, res);
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	forget_serials();
}

struct sysfs_write {
	const char *path, *val;
};

static int write_fn(const void *arg, char *buf, size_t len)
{
	const struct sysfs_write *w = arg;
	int rc = write_str(w->path, w->val);
	const char *name = strerrorname_np(-rc);

	snprintf(buf, len, "%s", !rc ? "ok" : name ? name : "unknown");
	return -rc;
}

/*
 * The run-time writes ("sysfs <path> <value>", "unbind <bdf>", "bind <bdf>
 * <driver>") run under the watchdog, since they reach drivers and devices.
 * A failed write is reported with its errno (rc=-errno err=ENAME) and the
 * run goes on.  Disks may have gone or come back under other /dev names,
 * so every remembered serial is dropped.
 */
/* Run one write under the watchdog and print its step line */
static void guarded_write(int step, const char *name, const char *path,
			  const char *val,
			  int (*fn)(const void *, char *, size_t),
			  const void *arg)
{
	char err[64], rc[16];
	int code = guarded(fn, arg, err, sizeof(err), io_timeout);

	if (code < 0)
		snprintf(rc, sizeof(rc), "%s", err);
	else
		snprintf(rc, sizeof(rc), "%d", -code);
	say("VB step step=%d name=%s path=%s value=%s rc=%s err=%s", step, name,
	    path, val, rc, err);
}

static void sysfs_write(int step, const char *name, const char *path,
			const char *val)
{
	struct sysfs_write w = { path, val };

	guarded_write(step, name, path, val, write_fn, &w);
	forget_serials();
}

static void step_sysfs(int step, char *args)
{
	char *path = strtok(args, " "), *val = strtok(NULL, "\n");

	if (!path || !val) {
		say("VB step step=%d name=sysfs rc=bad-step", step);
		return;
	}
	sysfs_write(step, "sysfs", path, val);
}

static void step_unbind(int step, char *args)
{
	char *bdf = strtok(args, " "), path[256];

	if (!bdf) {
		say("VB step step=%d name=unbind rc=bad-step", step);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/driver/unbind", PCI_DIR, bdf);
	sysfs_write(step, "unbind", path, bdf);
}

static void step_bind(int step, char *args)
{
	char *bdf = strtok(args, " "), *drv = strtok(NULL, " "), path[256];

	if (!bdf || !drv) {
		say("VB step step=%d name=bind rc=bad-step", step);
		return;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", drv);
	sysfs_write(step, "bind", path, bdf);
}

struct master_write {
	const char *path;
	int on;
};

/* Set or clear the bus master bit, leaving the command register's others */
static int master_fn(const void *arg, char *buf, size_t len)
{
	const struct master_write *w = arg;
	unsigned char cmd[2];
	int fd, rc = 0;

	fd = open(w->path, O_RDWR);
	if (fd < 0)
		rc = -errno;
	else if (pread(fd, cmd, sizeof(cmd), 4) != sizeof(cmd))
		rc = -EIO;
	if (!rc) {
		cmd[0] = w->on ? cmd[0] | 0x4 : cmd[0] & ~0x4;
		errno = 0;
		if (pwrite(fd, cmd, sizeof(cmd), 4) != sizeof(cmd))
			rc = errno ? -errno : -EIO;
	}
	if (fd >= 0)
		close(fd);
	snprintf(buf, len, "%s", !rc ? "ok" : strerrorname_np(-rc) ?: "unknown");
	return -rc;
}

/*
 * "master <bdf> on|off": the bus master bit of a function's command register,
 * written through its config file as firmware leaves it on a device it
 * booted from, or as user space (setpci) may set it.
 */
static void step_master(int step, char *args)
{
	char *bdf = strtok(args, " "), *val = strtok(NULL, " ");
	struct master_write w;
	char path[256];

	if (!bdf || !val || (strcmp(val, "on") && strcmp(val, "off"))) {
		say("VB step step=%d name=master rc=bad-step", step);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/config", PCI_DIR, bdf);
	w.path = path;
	w.on = !strcmp(val, "on");
	guarded_write(step, "master", path, val, master_fn, &w);
}

static int run_wrapped(char *const argv[], const char *prefix, char *buf,
		       size_t len);

/* An exec step's program, each line of its output as "VB out <line>". */
static int exec_fn(const void *arg, char *buf, size_t len)
{
	return run_wrapped((char *const *)arg, "VB out", buf, len);
}

/* "exec <path> [args]": run a program under the watchdog. */
static void step_exec(int step, char *args)
{
	char *argv[16], detail[64];
	int argc = 0, rc;

	for (char *tok = strtok(args, " \n"); tok && argc < 15;
	     tok = strtok(NULL, " \n"))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (!argc) {
		say("VB step step=%d name=exec rc=bad-step", step);
		return;
	}
	rc = guarded(exec_fn, argv, detail, sizeof(detail), io_timeout);
	if (rc == GUARD_HANG)
		say("VB step step=%d name=exec prog=%s rc=hang", step, argv[0]);
	else
		say("VB step step=%d name=exec prog=%s rc=%d", step, argv[0],
		    rc);
	forget_serials();
}

/*
 * Load and benchmark steps.  Their results cross from the child that
 * guarded() runs back to init through a shared anonymous mapping, one slot
 * per disk, so that a hung worker costs its own slot only.
 */
struct load_result {
	char bdf[64];
	uint64_t ops, bytes, mismatches, errors;
	double seqread, seqwrite, iops;	/* MB/s, MB/s, 4 KiB reads/s */
	char detail[128];
	char final[32];		/* a flipped group's type after "auto" */
};

static struct load_result *shared_results(void)
{
	void *p = mmap(NULL, MAX_DISKS * sizeof(struct load_result),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, MAX_DISKS * sizeof(struct load_result));
	return p;
}

static double now_secs(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* The disks present now, with their block device (a step's working set). */
static int present_disks(int *idx, char blks[][32], char bdfs[][64])
{
	int n = 0;

	for (int i = 0; i < ndisks; i++)
		if (!disks[i].pending &&
		    find_disk(disks[i].serial, bdfs[n], 64, blks[n], 32))
			idx[n++] = i;
	return n;
}

#define STRESS_MAX_CHUNKS	4	/* largest request: 256 KiB */

/*
 * One stress operation on chunks [c, c + n): read what is there, write a
 * pattern that names the operation and the offset of every 512-byte block,
 * read it back, then put the original back and read that back too.  The
 * disk ends as it started, so a DMA check after the stress step still
 * compares it end to end with the host.
 */
static int stress_op(int fd, uint64_t off, size_t len, uint64_t tag,
		     unsigned char *orig, unsigned char *pat,
		     unsigned char *back, struct load_result *r)
{
	uint64_t state = tag | 1;

	if (pread(fd, orig, len, off) != (ssize_t)len)
		return -1;
	gen(&state, pat, len);
	for (size_t b = 0; b < len; b += 512) {
		uint64_t where = off + b;

		memcpy(pat + b, &where, sizeof(where));
		memcpy(pat + b + 8, &tag, sizeof(tag));
	}
	if (pwrite(fd, pat, len, off) != (ssize_t)len ||
	    pread(fd, back, len, off) != (ssize_t)len)
		return -1;
	if (memcmp(back, pat, len) && !r->mismatches++)
		snprintf(r->detail, sizeof(r->detail),
			 "pattern-mismatch@%" PRIu64, off);
	if (pwrite(fd, orig, len, off) != (ssize_t)len ||
	    pread(fd, back, len, off) != (ssize_t)len)
		return -1;
	if (memcmp(back, orig, len) && !r->mismatches++)
		snprintf(r->detail, sizeof(r->detail),
			 "restore-mismatch@%" PRIu64, off);
	r->ops++;
	r->bytes += 4 * len;
	return 0;
}

static void stress_worker(const char *blk, const struct disk *dk,
			  double until, struct load_result *r)
{
	size_t max = STRESS_MAX_CHUNKS * CHUNK;
	unsigned char *orig, *pat, *back;
	uint64_t rnd = dk->seed ^ getpid(), nchunks = dk->size / CHUNK;
	char path[64];
	int fd;

	snprintf(r->detail, sizeof(r->detail), "ok");
	snprintf(path, sizeof(path), "/dev/%s", blk);
	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0 || posix_memalign((void **)&orig, 4096, max) ||
	    posix_memalign((void **)&pat, 4096, max) ||
	    posix_memalign((void **)&back, 4096, max) || !nchunks) {
		r->errors++;
		snprintf(r->detail, sizeof(r->detail), "setup:%s",
			 strerror(errno));
		return;
	}
	while (now_secs() < until) {
		uint64_t c = xorshift(&rnd) % nchunks;
		size_t n = 1 + xorshift(&rnd) % STRESS_MAX_CHUNKS;

		if (c + n > nchunks)
			n = nchunks - c;
		spread(r->ops * CHUNK);
		if (stress_op(fd, c * CHUNK, n * CHUNK,
			      xorshift(&rnd) << 1, orig, pat, back, r) &&
		    !r->errors++)
			snprintf(r->detail, sizeof(r->detail), "io@%" PRIu64 ":%s",
				 c * CHUNK, strerror(errno));
	}
	fdatasync(fd);
	close(fd);
}

/*
 * Switch the type of an idle device's group between identity and DMA
 * while the disks are under load; each write is read back.
 */
static void stress_flip(const char *bdf, double until, struct load_result *r)
{
	static const char *const types[] = { "identity", "DMA" };
	char path[512], grp[32], got[32];

	snprintf(r->detail, sizeof(r->detail), "ok");
	snprintf(path, sizeof(path), "%s/%s/iommu_group", PCI_DIR, bdf);
	link_base(path, grp, sizeof(grp));
	if (!strcmp(grp, "none")) {
		r->errors++;
		snprintf(r->detail, sizeof(r->detail), "no-group");
		return;
	}
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/type", grp);
	while (now_secs() < until) {
		const char *want = types[r->ops % 2];

		if (write_str(path, want) ||
		    read_str(path, got, sizeof(got)) || strcmp(got, want)) {
			if (!r->errors++)
				snprintf(r->detail, sizeof(r->detail),
					 "%s:%s", want, strerror(errno));
		}
		r->ops++;
		usleep(100 * 1000);
	}
	/* "auto" must bring back the type the kernel chose at boot. */
	if (write_str(path, "auto") ||
	    read_str(path, r->final, sizeof(r->final)))
		snprintf(r->final, sizeof(r->final), "error:%d", errno);
}

struct stress_job {
	int secs, n, *idx;
	char (*blks)[32];
	const char *flip;
	struct load_result *res;	/* n disks, then the flip */
};

static int stress_fn(const void *arg, char *detail, size_t dlen)
{
	const struct stress_job *job = arg;
	double until = now_secs() + job->secs;
	int workers = job->n + !!job->flip;

	for (int w = 0; w < workers; w++) {
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (pid)
			continue;
		if (w < job->n)
			stress_worker(job->blks[w], &disks[job->idx[w]],
				      until, &job->res[w]);
		else
			stress_flip(job->flip, until, &job->res[w]);
		_exit(0);
	}
	while (workers && wait(NULL) > 0)
		workers--;
	snprintf(detail, dlen, "ok");
	return 0;
}

/*
 * "stress <seconds> [<bdf>]": every present disk under verified load at
 * once, from every CPU in turn, for that long; meanwhile the group type of
 * the idle (unbound) device <bdf> is switched back and forth.
 */
static void step_stress(int step, char *args)
{
	char blks[MAX_DISKS][32], bdfs[MAX_DISKS][64], detail[64];
	struct stress_job job = { 0 };
	int idx[MAX_DISKS], rc;
	char flip[64] = "";

	if (sscanf(args, "%d %63s", &job.secs, flip) < 1 || job.secs <= 0) {
		say("VB step step=%d name=stress rc=bad-step", step);
		return;
	}
	job.n = present_disks(idx, blks, bdfs);
	job.idx = idx;
	job.blks = blks;
	job.flip = flip[0] ? flip : NULL;
	job.res = shared_results();
	if (!job.res) {
		say("VB step step=%d name=stress rc=no-memory", step);
		return;
	}
	rc = guarded(stress_fn, &job, detail, sizeof(detail),
		     job.secs + io_timeout);
	for (int w = 0; w < job.n; w++) {
		struct load_result *r = &job.res[w];

		say("VB stress step=%d serial=%s bdf=%s ops=%" PRIu64 " bytes=%" PRIu64 " mismatches=%" PRIu64 " errors=%" PRIu64 " detail=%s",
		    step, disks[idx[w]].serial, bdfs[w], r->ops, r->bytes,
		    r->mismatches, r->errors, r->detail[0] ? r->detail : "-");
	}
	if (job.flip) {
		struct load_result *r = &job.res[job.n];

		say("VB flip step=%d bdf=%s writes=%" PRIu64 " errors=%" PRIu64 " final=%s detail=%s",
		    step, job.flip, r->ops, r->errors,
		    r->final[0] ? r->final : "-",
		    r->detail[0] ? r->detail : "-");
	}
	say("VB step step=%d name=stress rc=%s", step,
	    rc == GUARD_HANG ? "hang" : rc ? "error" : "ok");
	munmap(job.res, MAX_DISKS * sizeof(struct load_result));
}

#define BENCH_BLOCK	(1024 * 1024)	/* sequential request size */
#define BENCH_RANDOM	4096		/* random read size */

struct blk_job {
	const char *blk;
	const struct disk *dk;
	int secs;
	struct load_result *r;
};

/*
 * One round of the block benchmark on one disk: the whole disk read in
 * 1 MiB O_DIRECT requests, the same data written back (so the disk keeps
 * its contents), then 4 KiB reads at random offsets for secs seconds, one
 * at a time.
 */
static int blk_fn(const void *arg, char *detail, size_t dlen)
{
	const struct blk_job *job = arg;
	struct load_result *r = job->r;
	uint64_t size = job->dk->size, rnd = job->dk->seed, n = 0;
	unsigned char *data;
	double t0, until;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", job->blk);
	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0 || size % BENCH_BLOCK ||
	    posix_memalign((void **)&data, 4096, size)) {
		snprintf(detail, dlen, "setup:%s", strerror(errno));
		return 2;
	}
	t0 = now_secs();
	for (uint64_t off = 0; off < size; off += BENCH_BLOCK)
		if (pread(fd, data + off, BENCH_BLOCK, off) != BENCH_BLOCK)
			goto io_error;
	r->seqread = size / 1e6 / (now_secs() - t0);
	t0 = now_secs();
	for (uint64_t off = 0; off < size; off += BENCH_BLOCK)
		if (pwrite(fd, data + off, BENCH_BLOCK, off) != BENCH_BLOCK)
			goto io_error;
	if (fdatasync(fd))
		goto io_error;
	r->seqwrite = size / 1e6 / (now_secs() - t0);
	t0 = now_secs();
	until = t0 + job->secs;
	for (; now_secs() < until; n++) {
		uint64_t off = xorshift(&rnd) % (size / BENCH_RANDOM);

		if (pread(fd, data, BENCH_RANDOM, off * BENCH_RANDOM) !=
		    BENCH_RANDOM)
			goto io_error;
	}
	r->iops = n / (now_secs() - t0);
	snprintf(detail, dlen, "ok");
	return 0;
io_error:
	snprintf(detail, dlen, "io:%s", strerror(errno));
	return 2;
}

/*
 * "blkbench <rounds> <seconds>": the block benchmark on every present
 * disk, one disk at a time so the figures compare, round after round.
 */
static void step_blkbench(int step, char *args)
{
	char blks[MAX_DISKS][32], bdfs[MAX_DISKS][64], detail[64];
	int idx[MAX_DISKS], rounds, secs, n;
	struct load_result *res;

	if (sscanf(args, "%d %d", &rounds, &secs) != 2 || rounds <= 0 ||
	    secs <= 0 || !(res = shared_results())) {
		say("VB step step=%d name=blkbench rc=bad-step", step);
		return;
	}
	n = present_disks(idx, blks, bdfs);
	for (int round = 1; round <= rounds; round++) {
		for (int w = 0; w < n; w++) {
			struct blk_job job = { blks[w], &disks[idx[w]], secs,
					       &res[w] };
			int rc = guarded(blk_fn, &job, detail, sizeof(detail),
					 io_timeout + secs);

			say("VB blk step=%d serial=%s bdf=%s round=%d seqread=%.1f seqwrite=%.1f randread=%.0f rc=%d detail=%s",
			    step, disks[idx[w]].serial, bdfs[w], round,
			    res[w].seqread, res[w].seqwrite, res[w].iops, rc,
			    detail);
		}
	}
	say("VB step step=%d name=blkbench rc=ok", step);
	munmap(res, MAX_DISKS * sizeof(struct load_result));
}

/*
 * "trace": the events in the trace buffer (kprobe events named vb_* that
 * the kernel command line set up), one line each: the event's name, its
 * timestamp (ts=, seconds, as the buffer prints it) and its key=value
 * fields.
 */
static void step_trace(int step)
{
	char line[1024], ts[32];
	int n = 0;
	FILE *f;

	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	f = fopen("/sys/kernel/tracing/trace", "r");
	if (!f) {
		say("VB step step=%d name=trace rc=%s", step, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *ev = strstr(line, " vb_"), *colon, fields[512] = "";

		if (line[0] == '#' || !ev || !(colon = strchr(ev, ':')))
			continue;
		*colon = 0;
		/* "... [cpu] flags   12.345678: vb_x: ..." */
		ts[0] = 0;
		if (ev > line && ev[-1] == ':') {
			char *p = ev - 1;

			while (p > line && p[-1] != ' ')
				p--;
			if (ev - 1 - p < (long)sizeof(ts))
				snprintf(ts, sizeof(ts), "%.*s", (int)(ev - 1 - p), p);
		}
		for (char *tok = strtok(colon + 1, " \n"); tok;
		     tok = strtok(NULL, " \n"))
			if (strchr(tok, '=') && strlen(fields) + strlen(tok) <
			    sizeof(fields) - 2) {
				strcat(fields, " ");
				strcat(fields, tok);
			}
		say("VB trace step=%d event=%s%s%s%s", step, ev + 1,
		    ts[0] ? " ts=" : "", ts, fields);
		n++;
	}
	fclose(f);
	say("VB step step=%d name=trace rc=ok events=%d", step, n);
}

/* How far a hot-plugged disk got: absent, no-driver, no-disk or ready. */
static const char *plug_state(const char *bdf)
{
	char path[512], spath[1000], blk[32];

	snprintf(path, sizeof(path), "%s/%s", PCI_DIR, bdf);
	if (access(path, F_OK))
		return "absent";
	snprintf(path, sizeof(path), "%s/%s/driver", PCI_DIR, bdf);
	if (access(path, F_OK))
		return "no-driver";
	if (!find_block(bdf, spath, sizeof(spath), blk, sizeof(blk)))
		return "no-disk";
	return "ready";
}

static int plug_wait_fn(const void *arg, char *buf, size_t len)
{
	while (strcmp(plug_state(arg), "ready"))
		usleep(100 * 1000);
	snprintf(buf, len, "ready");
	return 0;
}

/*
 * "hotplug <id> <bdf> [<id> <bdf>]..." (the host adds the BDFs): ask the host
 * to plug the first disk (with the others, functions of the same slot that
 * the host plugs before it), then wait, under the watchdog, for pciehp to
 * bring each function up and virtio-blk to bind it.  The host watches the
 * verdict channel for the request and answers with QMP device_add.
 */
#define HOTPLUG_MAX	8

static void step_hotplug(int step, char *args)
{
	char *id[HOTPLUG_MAX], *bdf[HOTPLUG_MAX], detail[64];
	struct timespec t0, t;
	int n = 0;

	while (n < HOTPLUG_MAX && (id[n] = strtok(n ? NULL : args, " ")) &&
	       (bdf[n] = strtok(NULL, " ")))
		n++;
	if (!n || (n < HOTPLUG_MAX && id[n])) {
		say("VB step step=%d name=hotplug rc=bad-step", step);
		return;
	}
	say("VB hotplug-ready step=%d id=%s bdf=%s", step, id[0], bdf[0]);
	for (int k = 0; k < n; k++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		guarded(plug_wait_fn, bdf[k], detail, sizeof(detail),
			HOTPLUG_SECS);
		clock_gettime(CLOCK_MONOTONIC, &t);
		for (int i = 0; i < ndisks; i++)
			if (!strcmp(disks[i].serial, id[k]))
				disks[i].pending = 0;
		forget_serials();
		say("VB hotplug step=%d id=%s bdf=%s state=%s secs=%ld", step,
		    id[k], bdf[k], plug_state(bdf[k]),
		    (long)(t.tv_sec - t0.tv_sec));
	}
}

/*
 * Run argv with its output on a pipe and forward each line as "<prefix>
 * <line>", so that nothing a program prints is mistaken for a record.
 * Returns its exit status (128 + signal when killed by one, 127 when it
 * cannot be run).
 */
static int run_wrapped(char *const argv[], const char *prefix, char *buf,
		       size_t len)
{
	char line[512];
	int pfd[2], status;
	FILE *f;
	pid_t pid;

	if (pipe(pfd))
		return 127;
	pid = fork();
	if (!pid) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], argv);
		printf("exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		say("%s %s", prefix, line);
	}
	if (f)
		fclose(f);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 127;
	snprintf(buf, len, "done");
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}

/* The kselftest binary, its TAP output as "VB ktap <line>". */
static int kselftest_fn(const void *arg, char *buf, size_t len)
{
	char *const argv[] = { KSELFTEST, NULL };

	(void)arg;
	return run_wrapped(argv, "VB ktap", buf, len);
}

/* "kselftest": the harness appends it to every scenario's steps. */
static void step_kselftest(int step)
{
	char detail[64];
	int rc = guarded(kselftest_fn, NULL, detail, sizeof(detail),
			 KSELFTEST_SECS);

	if (rc < 0)
		say("VB kselftest step=%d rc=%s", step, detail);
	else
		say("VB kselftest step=%d rc=%d", step, rc);
	forget_serials();
}

static void mounts(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
}

static void open_channel(const char *dev)
{
	/* The channel's driver may probe late (virtio-mmio): wait for it. */
	for (int i = 0; i < 100; i++) {
		out = fopen(dev, "w");
		if (out)
			return;
		usleep(100 * 1000);
	}
	fprintf(stderr, "vbinit: cannot open verdict channel %s: %s\n", dev,
		strerror(errno));
	out = stderr;
}

static void add_disk(char *args)
{
	struct disk *dk;

	if (ndisks == MAX_DISKS)
		return;
	dk = &disks[ndisks];
	/*
	 * "ID SIZE HASH SEED [FILE]": with FILE, the disk holds the file
	 * system the guest runs from, and its check reads and writes that file.
	 */
	dk->file[0] = '\0';
	if (sscanf(args, "%63s %" SCNu64 " %" SCNx64 " %" SCNx64 " %63s",
		   dk->serial, &dk->size, &dk->hash, &dk->seed, dk->file) >= 4)
		ndisks++;
}

static void power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* Only reached if power-off failed; panic=-1 and -no-reboot end it. */
	exit(1);
}

/*
 * Outside a guest (the host's self-test): print the hash of the stream for
 * a seed and size, to check this file against harness/dmadata.py.
 */
static int data_selftest(char **argv)
{
	uint64_t seed = strtoull(argv[2], NULL, 16);
	uint64_t size = strtoull(argv[3], NULL, 0);

	if (size % CHUNK)
		return 2;
	printf("%016" PRIx64 "\n", stream_hash(seed, size));
	return 0;
}

/* The disks that a later "hotplug <serial> <bdf> ..." step brings. */
static void mark_pending(const char *args)
{
	char id[64];
	int used;

	for (;;) {
		used = 0;
		if (sscanf(args, "%63s %*s%n", id, &used) != 1 || !used)
			break;
		for (int i = 0; i < ndisks; i++)
			if (!strcmp(disks[i].serial, id))
				disks[i].pending = 1;
		args += used;
	}
}

/* Plan lines that set something up; every other line is a step. */
static int is_setting(const char *word)
{
	return !strcmp(word, "out") || !strcmp(word, "timeout") ||
	       !strcmp(word, "disk-wait") || !strcmp(word, "disk");
}

static void apply_setting(const char *word, char *arg)
{
	if (!strcmp(word, "out"))
		open_channel(arg);
	else if (!strcmp(word, "timeout"))
		io_timeout = atoi(arg);
	else if (!strcmp(word, "disk-wait"))
		disk_wait = atoi(arg);
	else
		add_disk(arg);
}

/* Step number n of the plan: word and its arguments (never NULL). */
static void run_step(int n, const char *word, char *arg)
{
	if (!strcmp(word, "bind-held")) {
		step_bind_held(n);
	} else if (!strcmp(word, "report")) {
		wait_disks();
		report_devices(n);
	} else if (!strcmp(word, "dma")) {
		wait_disks();
		/* Without a serial: every disk that is not still to come. */
		for (int i = 0; i < ndisks; i++)
			if (*arg ? !strcmp(arg, disks[i].serial) :
				   !disks[i].pending)
				dma_check(n, &disks[i]);
	} else if (!strcmp(word, "sysfs")) {
		step_sysfs(n, arg);
	} else if (!strcmp(word, "unbind")) {
		step_unbind(n, arg);
	} else if (!strcmp(word, "bind")) {
		step_bind(n, arg);
	} else if (!strcmp(word, "master")) {
		step_master(n, arg);
	} else if (!strcmp(word, "hotplug")) {
		step_hotplug(n, arg);
	} else if (!strcmp(word, "exec")) {
		step_exec(n, arg);
	} else if (!strcmp(word, "kselftest")) {
		step_kselftest(n);
	} else if (!strcmp(word, "stress")) {
		step_stress(n, arg);
	} else if (!strcmp(word, "blkbench")) {
		step_blkbench(n, arg);
	} else if (!strcmp(word, "trace")) {
		step_trace(n);
	} else if (!strcmp(word, "sleep")) {
		sleep(atoi(arg));
	} else {
		say("VB step step=%d name=%s rc=unknown-step", n, word);
	}
}

/*
 * The plan's next line, split into its first word and the rest of it ("" if
 * there is none).
 */
static int plan_line(FILE *plan, char *line, size_t len, char **arg)
{
	if (!fgets(line, len, plan))
		return 0;
	line[strcspn(line, "\n")] = 0;
	*arg = strchr(line, ' ');
	if (*arg)
		*(*arg)++ = 0;
	else
		*arg = line + strlen(line);
	return 1;
}

static int is_step(const char *word)
{
	return word[0] && word[0] != '#' && !is_setting(word);
}

int main(int argc, char **argv)
{
	char line[1024], *arg;
	int nsteps = 0, step = 0;
	FILE *plan;

	if (getpid() != 1 && argc == 4 && !strcmp(argv[1], "--data"))
		return data_selftest(argv);
	mounts();
	plan = fopen(PLAN_PATH, "r");
	if (!plan) {
		fprintf(stderr, "vbinit: no plan at %s\n", PLAN_PATH);
		power_off();
	}
	/* First pass: settings and disks; steps run in a second pass. */
	while (plan_line(plan, line, sizeof(line), &arg)) {
		if (is_setting(line)) {
			apply_setting(line, arg);
		} else if (is_step(line)) {
			nsteps++;
			if (!strcmp(line, "hotplug"))
				mark_pending(arg);
		}
	}
	if (!out)
		out = stderr;
	say("VB start plan=%d disks=%d", nsteps, ndisks);
	rewind(plan);
	while (plan_line(plan, line, sizeof(line), &arg))
		if (is_step(line))
			run_step(++step, line, arg);
	fclose(plan);
	say("VB end");
	power_off();
	return 0;
}
