"""The boot disk of a scenario: a [[disk]] with root = true.

With a test kernel the guest then boots without an initramfs: the kernel
mounts its root file system from that disk, through the built-in
virtio-blk driver, before any user-space program runs, and runs vbinit
from it.  With make deb's packaged kernel (package = true) the initramfs
its package made (initramfs-tools) loads virtio-blk and ext4 as modules,
mounts the disk and runs vbinit from it the same way (init=); the disk
has the mount points that initramfs-tools moves its /dev, /proc, /sys and
/run onto.  The disk holds an
MBR with one partition (so that the kernel finds it by PARTUUID, whatever
name the disk gets) and an ext2 file system with what the initramfs would
hold (the base archive's files and the plan), and the disk's DMA check
data as a file, DATA_PATH.

The DMA check of the boot disk runs on that file instead of the whole
device, which holds the file system the guest runs from: the guest reads
it with O_DIRECT and compares its hash, writes a stream over it and reads
that back (guest/vbinit.c); after power-off the host takes the file out
of the image (debugfs, e2fsprogs) and compares it with the stream, as for
any disk (dmadata.verify_image()).
"""
import os
import struct
import subprocess
import tempfile

import cpio

# Where the file system starts: 1 MiB, as partitioning tools align it.
OFFSET = 1 << 20
SECTOR = 512
# Room for the base archive's files, the plan and the data, and ext2's own.
SLACK = 16 << 20
DATA_PATH = '/vb/data'
MKE2FS = '/usr/sbin/mke2fs'
DEBUGFS = '/usr/sbin/debugfs'


class RootDiskError(Exception):
    pass


def signature(rng):
    """A nonzero MBR disk signature from the boot's seeded rng."""
    sig = 0
    while sig == 0:
        sig = rng.getrandbits(32)
    return sig


def cmdline(sig):
    """What the kernel needs to mount the disk as its root and run
    vbinit from it; rootwait gives up after 60 s, so that a disk that never
    appears fails the boot rather than hangs it.  initramfs-tools reads
    root=, rootfstype=, rw and init= the same way; it ignores rootwait and
    waits up to rootdelay (180 s by default), inside the scenario's
    timeout."""
    return (f'root=PARTUUID={sig:08x}-01 rootfstype=ext2 rw rootwait=60 '
            f'init=/init')


# Mount points an initramfs moves its own mounts onto before it runs
# init from the disk (initramfs-tools: /dev, /proc, /sys, /run).
MOUNT_POINTS = ('dev', 'proc', 'sys', 'run')


def _stage(top, archive, plan, data):
    """Write the archive's entries, the plan and the data under top, and
    the MOUNT_POINTS the archive lacks."""
    for d in MOUNT_POINTS:
        os.makedirs(os.path.join(top, d), exist_ok=True)
    for name, kind, body in cpio.entries(archive):
        path = os.path.join(top, name)
        if kind == 'dir':
            os.makedirs(path, exist_ok=True)
        elif kind == 'link':
            os.symlink(body.decode(), path)
        elif kind == 'chr':
            continue        # /dev is devtmpfs, which the kernel mounts
        else:
            with open(path, 'wb') as f:
                f.write(body)
            os.chmod(path, 0o755 if kind == 'exec' else 0o644)
    with open(os.path.join(top, 'vb', 'plan'), 'wb') as f:
        f.write(plan)
    with open(os.path.join(top, DATA_PATH.lstrip('/')), 'wb') as f:
        f.write(data)


def _mbr(sig, sectors):
    """A DOS partition table: one Linux partition from OFFSET to the end."""
    start = OFFSET // SECTOR
    entry = struct.pack('<B3sB3sII', 0, b'\0\0\0', 0x83, b'\0\0\0', start,
                        sectors - start)
    return struct.pack('<I', sig) + b'\0\0' + entry + b'\0' * 48 + \
        b'\x55\xaa'


def make(path, archive, plan, data, sig):
    """Write the boot disk image to path: the archive's files, the plan as
    /vb/plan and data as DATA_PATH, on ext2 in partition 1."""
    fs_bytes = len(archive) + len(plan) + len(data) + SLACK
    fs_bytes += -fs_bytes % (1 << 20)
    with tempfile.TemporaryDirectory() as top:
        _stage(top, archive, plan, data)
        with open(path, 'wb') as f:
            f.truncate(OFFSET + fs_bytes)
        r = subprocess.run([MKE2FS, '-q', '-F', '-t', 'ext2', '-b', '4096',
                            '-E', f'offset={OFFSET}', '-d', top, path,
                            f'{fs_bytes // 1024}k'],
                           capture_output=True, text=True)
    if r.returncode:
        raise RootDiskError(f'mke2fs: {r.stderr.strip()}')
    with open(path, 'r+b') as f:
        f.seek(440)
        f.write(_mbr(sig, (OFFSET + fs_bytes) // SECTOR))


def extract(image, out):
    """Copy DATA_PATH out of the image's file system into out; False if
    debugfs cannot (the guest broke the file system, or the file)."""
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run([DEBUGFS, '-R', f'dump {DATA_PATH} {out}',
                        f'{image}?offset={OFFSET}'],
                       capture_output=True, text=True)
    return r.returncode == 0 and os.path.exists(out)
