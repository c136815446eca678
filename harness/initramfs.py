#!/usr/bin/env python3
"""Build the base initramfs of an architecture: vbinit as /init, the
kselftest binary as /vb/kselftest (the guest's last step runs it), the
series' report tool as /vb/iommu_report, and any further programs, each
as /vb/<its name>.

Usage: initramfs.py INIT KSELFTEST REPORT [PROGRAM...] OUTPUT

/dev/console is in the archive because the kernel opens it for init's
standard streams before init can mount devtmpfs.  The per-boot plan is a
second archive appended by boot.py, into /vb.
"""
import os
import sys

import cpio


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def main():
    init, kselftest, report, *extra = sys.argv[1:-1]
    data = cpio.archive([
        ('dev', 'dir', b''), ('dev/console', 'chr', (5, 1)),
        ('proc', 'dir', b''), ('sys', 'dir', b''),
        ('init', 'exec', read(init)),
        ('vb', 'dir', b''), ('vb/kselftest', 'exec', read(kselftest)),
        ('vb/iommu_report', 'exec', read(report))] +
        [(f'vb/{os.path.basename(p).rsplit("-", 1)[0]}', 'exec', read(p))
         for p in extra])
    with open(sys.argv[-1], 'wb') as f:
        f.write(data)


if __name__ == '__main__':
    main()
