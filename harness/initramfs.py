#!/usr/bin/env python3
"""Build the base initramfs of an architecture: vbinit as /init.

Usage: initramfs.py BINARY OUTPUT

/dev/console is in the archive because the kernel opens it for init's
standard streams before init can mount devtmpfs.  The per-boot plan is a
second archive appended by boot.py.
"""
import sys

import cpio


def main():
    with open(sys.argv[1], 'rb') as f:
        init = f.read()
    data = cpio.archive([
        ('dev', 'dir', b''), ('dev/console', 'chr', (5, 1)),
        ('proc', 'dir', b''), ('sys', 'dir', b''),
        ('init', 'exec', init)])
    with open(sys.argv[2], 'wb') as f:
        f.write(data)


if __name__ == '__main__':
    main()
