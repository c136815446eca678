"""ACPI tables a scenario adds to QEMU's own (-acpitable file=...).

QEMU cannot mark a PCIe root port external-facing, the firmware property
that makes Linux treat every device below it as untrusted (pci-acpi.c:
"ExternalFacingPort" in the port's _DSD).  An SSDT can: it describes the
root port again under \\_SB.PCI0, by its _ADR, with that _DSD.

The AML is encoded here rather than compiled, so no ASL compiler is
needed.  What the table holds, in ASL:

    Scope (\\_SB.PCI0) {
        Device (Xssf) {               // ss: slot, f: function
            Name (_ADR, 0xssss000f)
            Name (_STA, 0x0F)
            Name (_DSD, Package () {
                ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
                Package () { Package () { "ExternalFacingPort", 1 } } })
            Device (D000) { Name (_ADR, Zero) }
        }
    }

Where QEMU's DSDT describes the same port too, Linux picks one object per
_ADR (acpi_find_child_by_adr()); for a bridge it wants one with children
and prefers one whose _STA says enabled, which is why both are there.
"""
import struct
import uuid

# The device-properties UUID of _DSD (ACPI's "Device Properties UUID").
DSD_PROPERTIES = 'daffd814-6eba-4d8c-8a91-bc9bbf4aa301'
HEADER_LEN = 36

ZERO_OP, ONE_OP = b'\x00', b'\x01'
NAME_OP, SCOPE_OP, BUFFER_OP, PACKAGE_OP = b'\x08', b'\x10', b'\x11', b'\x12'
DEVICE_OP = b'\x5b\x82'


def pkg_length(n):
    """The PkgLength of a body of n bytes: it counts its own bytes too."""
    if n + 1 < 0x40:
        return bytes([n + 1])
    for extra in (1, 2, 3):
        total = n + 1 + extra
        if total < 1 << (4 + 8 * extra):
            out = [(extra << 6) | (total & 0xf)]
            out += [(total >> (4 + 8 * i)) & 0xff for i in range(extra)]
            return bytes(out)
    raise ValueError(f'AML package of {n} bytes is too long')


def name_seg(name):
    if not (1 <= len(name) <= 4 and name.isascii() and
            (name[0].isupper() or name[0] == '_') and
            all(c.isupper() or c.isdigit() or c == '_' for c in name)):
        raise ValueError(f'"{name}" is no ACPI name segment')
    return name.ljust(4, '_').encode()


def name_path(path):
    """\\A.B (absolute, two segments) or a single segment."""
    if path.startswith('\\'):
        segs = path[1:].split('.')
        if len(segs) != 2:
            raise ValueError(f'"{path}": only \\A.B paths are encoded')
        return b'\\\x2e' + b''.join(name_seg(s) for s in segs)
    return name_seg(path)


def integer(v):
    if v == 0:
        return ZERO_OP
    if v == 1:
        return ONE_OP
    for prefix, fmt, top in ((b'\x0a', '<B', 1 << 8), (b'\x0b', '<H', 1 << 16),
                             (b'\x0c', '<I', 1 << 32),
                             (b'\x0e', '<Q', 1 << 64)):
        if 0 <= v < top:
            return prefix + struct.pack(fmt, v)
    raise ValueError(f'{v} does not fit an AML integer')


def string(s):
    return b'\x0d' + s.encode('ascii') + b'\x00'


def buffer(data):
    body = integer(len(data)) + data
    return BUFFER_OP + pkg_length(len(body)) + body


def package(*elements):
    body = bytes([len(elements)]) + b''.join(elements)
    return PACKAGE_OP + pkg_length(len(body)) + body


def name(seg, value):
    return NAME_OP + name_seg(seg) + value


def scope(path, *terms):
    body = name_path(path) + b''.join(terms)
    return SCOPE_OP + pkg_length(len(body)) + body


def device(seg, *terms):
    body = name_seg(seg) + b''.join(terms)
    return DEVICE_OP + pkg_length(len(body)) + body


def table(signature, oem_table_id, aml, oem_id='VBYPAS', revision=2):
    """A whole table: header (checksum set so the bytes sum to 0) + aml."""
    head = struct.pack('<4sIBB6s8sI4sI', signature.encode(),
                       HEADER_LEN + len(aml), revision, 0,
                       oem_id.encode().ljust(6), oem_table_id.encode()
                       .ljust(8), 1, b'VBYP', 1)
    raw = head + aml
    csum = (-sum(raw)) & 0xff
    return raw[:9] + bytes([csum]) + raw[10:]


def port_name(slot, function):
    return f'X{slot:02X}{function:X}'


def external_facing_ssdt(ports):
    """An SSDT marking the root ports at (slot, function) of \\_SB.PCI0
    external-facing."""
    if not ports:
        raise ValueError('no port to mark')
    devices = []
    for slot, function in ports:
        if not (0 <= slot < 32 and 0 <= function < 8):
            raise ValueError(f'no PCI address {slot:#x}.{function}')
        dsd = package(buffer(uuid.UUID(DSD_PROPERTIES).bytes_le),
                      package(package(string('ExternalFacingPort'),
                                      integer(1))))
        devices.append(device(
            port_name(slot, function),
            name('_ADR', integer(slot << 16 | function)),
            name('_STA', integer(0x0f)),
            name('_DSD', dsd),
            device('D000', name('_ADR', integer(0)))))
    return table('SSDT', 'XFACING', scope('\\_SB.PCI0', *devices))
