// SPDX-License-Identifier: GPL-2.0
/*
 * vbinit: the /init of the harness's guests.
 *
 * It reads the plan the host packed into the initramfs (/vb/plan), reports
 * every PCI device (group, group type, IOMMU, interrupt mode), runs the DMA
 * check on every disk the plan names, and writes all of it, line by line, to
 * the verdict channel the plan names (a UART or virtio console that carries
 * nothing else).  Every step that touches a device runs in a child process
 * under a watchdog, so a hung DMA fails its check instead of stalling the
 * run.  It finishes by powering the guest off.
 *
 * Output lines ("VB <kind> key=value ..."; values contain no blanks):
 *   VB start plan=<n steps>
 *   VB dev bdf= id= class= driver= group= type= iommu= irq= serial=
 *   VB dma serial= bdf= dev= read= write= detail=
 *   VB step name= rc=
 *   VB end
 */
#define _GNU_SOURCE
#include <ctype.h>
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

struct disk {
	char serial[64];
	uint64_t size;		/* bytes, from the host's image */
	uint64_t hash;		/* FNV-1a 64 of the host's image */
	uint64_t seed;		/* seed of the data the guest writes */
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

/* Serials already read, and functions whose serial read hung. */
static struct {
	char bdf[32], serial[64], blk[32];
} serial_cache[64];
static int serial_cached;

/*
 * The serial (and block device) of a virtio-blk disk behind this PCI
 * function, or "-".  Reading it sends a request to the device, so it runs
 * under the watchdog; an answer, or a hang, is remembered.
 */
static void dev_serial(const char *dev, char *buf, size_t len, char *blk,
		       size_t blen)
{
	char path[512], spath[1000] = "", lblk[32] = "-";
	struct dirent *de, *be;
	DIR *d, *b;
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
	snprintf(path, sizeof(path), "%s/%s", PCI_DIR, dev);
	d = opendir(path);
	if (!d)
		return;
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
			snprintf(spath, sizeof(spath), "%s/%s/serial", bpath,
				 be->d_name);
			snprintf(lblk, sizeof(lblk), "%s", be->d_name);
			break;
		}
		closedir(b);
	}
	closedir(d);
	if (!spath[0])
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

static void report_devices(void)
{
	struct dirent **list;
	int n = scandir(PCI_DIR, &list, NULL, cmp_name);

	for (int i = 0; i < n; i++) {
		const char *dev = list[i]->d_name;
		char p[512], ven[16], did[16], cls[16], drv[64], grp[32];
		char type[32] = "none", iommu[96], irq[16], serial[64];

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
		say("VB dev bdf=%s id=%s:%s class=%s driver=%s group=%s type=%s iommu=%s irq=%s serial=%s",
		    dev, ven + 2, did + 2, cls, drv, grp, type, iommu, irq,
		    serial);
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
static int dma_fn(const void *arg, char *detail, size_t dlen)
{
	const struct dma_job *job = arg;
	const struct disk *dk = job->dk;
	uint64_t h = FNV_INIT, state = dk->seed, size = 0, off;
	unsigned char *buf, *ref;
	char path[64];
	int fd;

	snprintf(detail, dlen, "ok");
	snprintf(path, sizeof(path), "/dev/%s", job->blk);
	if (posix_memalign((void **)&buf, 4096, CHUNK) ||
	    posix_memalign((void **)&ref, 4096, CHUNK))
		return 2;
	fd = open(path, (job->writing ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		snprintf(detail, dlen, "open:%s", strerror(errno));
		return 2;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) || size != dk->size) {
		snprintf(detail, dlen, "size:%" PRIu64 "!=%" PRIu64, size,
			 dk->size);
		return 1;
	}
	if (job->writing) {
		/* Fresh data from the seed, written, then read back. */
		for (off = 0; off < size; off += CHUNK) {
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

static void dma_check(const struct disk *dk)
{
	char bdf[64] = "-", blk[32] = "-", d1[256], d2[256] = "-";
	const char *r, *w = "not-run";

	if (!find_disk(dk->serial, bdf, sizeof(bdf), blk, sizeof(blk))) {
		say("VB dma serial=%s bdf=- dev=- read=absent write=absent detail=no-block-device",
		    dk->serial);
		return;
	}
	r = dma_step(dk, blk, 0, d1, sizeof(d1));
	/* A hung read leaves the queue stuck: do not pile a write on it. */
	if (strcmp(r, "hang"))
		w = dma_step(dk, blk, 1, d2, sizeof(d2));
	say("VB dma serial=%s bdf=%s dev=%s read=%s write=%s detail=%s,%s",
	    dk->serial, bdf, blk, r, w, d1, d2);
}

static int all_disks_present(void)
{
	char bdf[64], blk[32];

	for (int i = 0; i < ndisks; i++)
		if (!find_disk(disks[i].serial, bdf, sizeof(bdf), blk,
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
static void step_bind_held(void)
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
			say("VB bind bdf=%s rc=%s", dev, res);
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

/*
 * Run-time steps: "sysfs <path> <value>" writes a sysfs file and reports
 * the result; "exec <path> [args]" runs a program under the watchdog and
 * reports its exit status.
 */
static void step_sysfs(char *args)
{
	char *path = strtok(args, " "), *val = strtok(NULL, "\n");
	int rc;

	if (!path || !val) {
		say("VB step name=sysfs rc=bad-step");
		return;
	}
	rc = write_str(path, val);
	say("VB step name=sysfs path=%s value=%s rc=%d", path, val, rc);
}

static int exec_fn(const void *arg, char *buf, size_t len)
{
	char *const *argv = arg;

	/* Its output goes to the verdict channel, framed by the host. */
	dup2(fileno(out), 1);
	dup2(fileno(out), 2);
	execv(argv[0], argv);
	snprintf(buf, len, "exec:%s", strerror(errno));
	return 127;
}

static void step_exec(char *args)
{
	char *argv[16], detail[64];
	int argc = 0, rc;

	for (char *tok = strtok(args, " \n"); tok && argc < 15;
	     tok = strtok(NULL, " \n"))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (!argc) {
		say("VB step name=exec rc=bad-step");
		return;
	}
	rc = guarded(exec_fn, argv, detail, sizeof(detail), io_timeout);
	if (rc == GUARD_HANG)
		say("VB step name=exec prog=%s rc=hang", argv[0]);
	else
		say("VB step name=exec prog=%s rc=%d", argv[0], rc);
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
	if (sscanf(args, "%63s %" SCNu64 " %" SCNx64 " %" SCNx64, dk->serial,
		   &dk->size, &dk->hash, &dk->seed) == 4)
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
	unsigned char *buf = malloc(CHUNK);
	uint64_t h = FNV_INIT;

	if (!buf || size % CHUNK)
		return 2;
	for (uint64_t off = 0; off < size; off += CHUNK) {
		gen(&seed, buf, CHUNK);
		h = fnv1a(h, buf, CHUNK);
	}
	printf("%016" PRIx64 "\n", h);
	return 0;
}

int main(int argc, char **argv)
{
	char line[1024];
	int nsteps = 0;
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
	while (fgets(line, sizeof(line), plan)) {
		char *arg = strchr(line, ' ');

		line[strcspn(line, "\n")] = 0;
		if (arg)
			*arg++ = 0;
		if (!strcmp(line, "out") && arg)
			open_channel(arg);
		else if (!strcmp(line, "timeout") && arg)
			io_timeout = atoi(arg);
		else if (!strcmp(line, "disk-wait") && arg)
			disk_wait = atoi(arg);
		else if (!strcmp(line, "disk") && arg)
			add_disk(arg);
		else if (line[0] && line[0] != '#')
			nsteps++;
	}
	if (!out)
		out = stderr;
	say("VB start plan=%d disks=%d", nsteps, ndisks);
	rewind(plan);
	while (fgets(line, sizeof(line), plan)) {
		char *arg = strchr(line, ' ');

		line[strcspn(line, "\n")] = 0;
		if (arg)
			*arg++ = 0;
		if (!strcmp(line, "bind-held")) {
			step_bind_held();
		} else if (!strcmp(line, "report")) {
			wait_disks();
			report_devices();
		} else if (!strcmp(line, "dma")) {
			wait_disks();
			for (int i = 0; i < ndisks; i++)
				if (!arg || !strcmp(arg, disks[i].serial))
					dma_check(&disks[i]);
		} else if (!strcmp(line, "sysfs") && arg) {
			step_sysfs(arg);
		} else if (!strcmp(line, "exec") && arg) {
			step_exec(arg);
		} else if (!strcmp(line, "sleep") && arg) {
			sleep(atoi(arg));
		}
	}
	fclose(plan);
	say("VB end");
	power_off();
	return 0;
}
