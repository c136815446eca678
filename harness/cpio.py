"""A minimal writer of the cpio "newc" format the kernel unpacks.

The guest's initramfs is a base archive (vbinit as /init) followed by a
small per-boot archive carrying the plan; the kernel unpacks concatenated
archives in order, so the plan needs no rebuild of the base.  Entries get
fixed owners and times so the same input gives the same bytes.
"""
import stat

_ino = [0x1000]


def _entry(name, mode, data=b'', rdev=(0, 0)):
    _ino[0] += 1
    nameb = name.encode() + b'\0'
    fields = [_ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(nameb), 0]
    hdr = b'070701' + b''.join(b'%08x' % f for f in fields)
    out = hdr + nameb
    out += b'\0' * (-len(out) % 4)
    out += data
    out += b'\0' * (-len(out) % 4)
    return out


def archive(entries):
    """entries: list of (name, kind, data); kind is 'dir', 'file', 'exec'
    or 'chr' (data is then (major, minor)).

    Returns the archive as bytes, trailer included."""
    out = b''
    for name, kind, data in entries:
        if kind == 'dir':
            out += _entry(name, stat.S_IFDIR | 0o755)
        elif kind == 'chr':
            out += _entry(name, stat.S_IFCHR | 0o600, rdev=data)
        elif kind == 'exec':
            out += _entry(name, stat.S_IFREG | 0o755, data)
        else:
            out += _entry(name, stat.S_IFREG | 0o644, data)
    return out + _entry('TRAILER!!!', 0)
