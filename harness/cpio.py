"""A minimal writer (and reader) of the cpio "newc" format the kernel
unpacks.

The guest's initramfs is a base archive (vbinit as /init) followed by a
small per-boot archive carrying the plan; the kernel unpacks concatenated
archives in order, so the plan needs no rebuild of the base.  Entries get
fixed owners, times and inode numbers, so the same input gives the same
bytes, call after call.
"""
import stat

# Inode numbers: each archive numbers its entries from its own first_ino.
# Every entry has one link, so the kernel never matches them up (it looks
# for hard links only among entries with nlink >= 2); the plan's archive
# still takes numbers of its own (PLAN_INO) so that none repeats.
FIRST_INO = 0x1000
PLAN_INO = 0x100000


def _entry(ino, name, mode, data=b'', rdev=(0, 0)):
    nameb = name.encode() + b'\0'
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(nameb), 0]
    hdr = b'070701' + b''.join(b'%08x' % f for f in fields)
    out = hdr + nameb
    out += b'\0' * (-len(out) % 4)
    out += data
    out += b'\0' * (-len(out) % 4)
    return out


def archive(entries, first_ino=FIRST_INO):
    """entries: list of (name, kind, data); kind is 'dir', 'file', 'exec',
    'chr' (data is then (major, minor)) or 'link' (data is the target).

    Returns the archive as bytes, trailer included."""
    out = b''
    for ino, (name, kind, data) in enumerate(entries, first_ino + 1):
        if kind == 'dir':
            out += _entry(ino, name, stat.S_IFDIR | 0o755)
        elif kind == 'chr':
            out += _entry(ino, name, stat.S_IFCHR | 0o600, rdev=data)
        elif kind == 'exec':
            out += _entry(ino, name, stat.S_IFREG | 0o755, data)
        elif kind == 'link':
            out += _entry(ino, name, stat.S_IFLNK | 0o777, data)
        else:
            out += _entry(ino, name, stat.S_IFREG | 0o644, data)
    return out + _entry(first_ino + len(entries) + 1, 'TRAILER!!!', 0)


def entries(data):
    """The entries of concatenated archives, as archive() takes them, in
    order (a later entry of the same name replaces an earlier one where
    the kernel unpacks them; the caller sees both).  Raises ValueError on
    what is not newc."""
    out, off = [], 0
    while off + 110 <= len(data):
        if data[off:off + 6] != b'070701':
            if not data[off:].strip(b'\0'):
                break           # padding after the last trailer
            raise ValueError(f'no newc header at {off}')
        fields = [int(data[off + 6 + 8 * i:off + 14 + 8 * i], 16)
                  for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name = data[off + 110:off + 110 + namesize - 1].decode()
        off += 110 + namesize
        off += -off % 4
        body = data[off:off + size]
        off += size
        off += -off % 4
        if name == 'TRAILER!!!':
            continue
        fmt = stat.S_IFMT(mode)
        if fmt == stat.S_IFDIR:
            out.append((name, 'dir', b''))
        elif fmt == stat.S_IFCHR:
            out.append((name, 'chr', (fields[9], fields[10])))
        elif fmt == stat.S_IFLNK:
            out.append((name, 'link', body))
        elif fmt == stat.S_IFREG:
            out.append((name, 'exec' if mode & 0o111 else 'file', body))
        else:
            raise ValueError(f'{name}: unsupported mode {mode:o}')
    return out
