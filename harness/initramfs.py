#!/usr/bin/env python3
"""Build the base initramfs of an architecture: vbinit as /init, the
kselftest binary as /vb/kselftest (the guest's last step runs it), and
any further programs, each as /vb/<its name>.

Usage: initramfs.py [--busybox BUSYBOX --recipe RST] INIT KSELFTEST
                    [PROGRAM...] OUTPUT

/dev/console is in the archive because the kernel opens it for init's
standard streams before init can mount devtmpfs.  The per-boot plan is a
second archive appended by boot.py, into /vb.

With --busybox BUSYBOX --recipe RST, the archive also holds a static
busybox as /bin/busybox (with /bin links for the applets the recipe uses)
and, as /vb/recipe.sh, the admin guide's recipe that lists every PCI
device with standard tools, taken from the page RST (recipe.py), and
the kselftest's negative test as /vb/spoil-sysfs.sh (guest/spoil-sysfs.sh:
it bind-mounts inconsistent values over two sysfs files).
"""
import os
import sys

import cpio
import recipe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPOIL = 'guest/spoil-sysfs.sh'
# What spoil-sysfs.sh runs besides the recipe's applets
SPOIL_APPLETS = ('mkdir', 'mount')


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def shell_entries(busybox, rst):
    """/bin/busybox, its applets' links and the recipe."""
    with open(rst) as f:
        script = recipe.extract(f.read())
    return ([('bin', 'dir', b''), ('bin/busybox', 'exec', read(busybox))] +
            [(f'bin/{a}', 'link', b'busybox')
             for a in recipe.APPLETS + SPOIL_APPLETS] +
            [(recipe.SCRIPT.lstrip('/'), 'file', script.encode()),
             ('vb/spoil-sysfs.sh', 'file', read(os.path.join(ROOT, SPOIL)))])


def main():
    args = sys.argv[1:-1]
    shell = []
    if args[:1] == ['--busybox'] and args[2:3] == ['--recipe']:
        shell, args = shell_entries(args[1], args[3]), args[4:]
    init, kselftest, *extra = args
    data = cpio.archive([
        ('dev', 'dir', b''), ('dev/console', 'chr', (5, 1)),
        ('proc', 'dir', b''), ('sys', 'dir', b''),
        ('init', 'exec', read(init)),
        ('vb', 'dir', b''), ('vb/kselftest', 'exec', read(kselftest))] +
        [(f'vb/{os.path.basename(p).rsplit("-", 1)[0]}', 'exec', read(p))
         for p in extra] + shell)
    with open(sys.argv[-1], 'wb') as f:
        f.write(data)


if __name__ == '__main__':
    main()
