"""Disk contents for the DMA check, shared with guest/vbinit.c.

The host fills each image with random bytes and passes their hash to the
guest, which must read the same bytes back through the device (host ->
guest).  The guest then writes a stream generated from a seed the host
chose; after power-off the host regenerates the stream and compares it with
the image (guest -> host).  Both sides must implement fnv1a() and stream()
identically.
"""
import os
import struct

FNV_INIT = 0xcbf29ce484222325
FNV_PRIME = 0x100000001b3
MASK = (1 << 64) - 1


def fnv1a(data, h=FNV_INIT):
    """64-bit FNV-1a over bytes (the guest hashes what it read)."""
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def stream(seed, size):
    """The bytes the guest writes: xorshift64* words, little endian."""
    s = seed
    out = bytearray(size)
    pack = struct.pack_into
    for off in range(0, size, 8):
        s ^= s >> 12
        s = (s ^ (s << 25)) & MASK
        s ^= s >> 27
        pack('<Q', out, off, (s * 0x2545f4914f6cdd1d) & MASK)
    return bytes(out)


def master_seed():
    """A fresh seed for one boot's disks, to log so the boot can be
    replayed with the same contents (boot.py --seed)."""
    return struct.unpack('<Q', os.urandom(8))[0]


def make_image(path, size, rng):
    """Write an image of random bytes drawn from rng (a random.Random of
    the boot's master seed, the disks taken in order); return (hash,
    seed) for the plan."""
    data = rng.randbytes(size)
    with open(path, 'wb') as f:
        f.write(data)
    seed = 0
    while seed == 0:        # xorshift must not start at 0
        seed = rng.getrandbits(64)
    return fnv1a(data), seed


def verify_image(path, seed, size):
    """Compare the image with what the guest should have written.

    Returns None when it matches, else the first differing offset."""
    with open(path, 'rb') as f:
        got = f.read()
    want = stream(seed, size)
    if got == want:
        return None
    for off in range(0, min(len(got), len(want)), 4096):
        if got[off:off + 4096] != want[off:off + 4096]:
            return off
    return min(len(got), len(want))
