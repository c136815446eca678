#!/usr/bin/env python3
"""Build the base initramfs of an architecture: vbinit as /init, the
kselftest binary as /vb/kselftest (the guest's last step runs it).

Usage: initramfs.py INIT KSELFTEST OUTPUT

/dev/console is in the archive because the kernel opens it for init's
standard streams before init can mount devtmpfs.  The per-boot plan is a
second archive appended by boot.py, into /vb.
"""
import sys

import cpio


def main():
    with open(sys.argv[1], 'rb') as f:
        init = f.read()
    with open(sys.argv[2], 'rb') as f:
        kselftest = f.read()
    data = cpio.archive([
        ('dev', 'dir', b''), ('dev/console', 'chr', (5, 1)),
        ('proc', 'dir', b''), ('sys', 'dir', b''),
        ('init', 'exec', init),
        ('vb', 'dir', b''), ('vb/kselftest', 'exec', kselftest)])
    with open(sys.argv[3], 'wb') as f:
        f.write(data)


if __name__ == '__main__':
    main()
