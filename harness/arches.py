"""One record per guest architecture: how to build its kernel and boot it.

Kept as data, in the manner of the kunit tool's qemu_configs: a new
architecture is a new record, not new code.
"""
import os
from dataclasses import dataclass, field

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'configs')


@dataclass(frozen=True)
class Arch:
    name: str                   # ARCH= for kbuild and the build dir suffix
    cross_compile: str          # CROSS_COMPILE= prefix ('' for native)
    guest_cc: str               # compiler for the static guest program
    image: str                  # kernel image, relative to the O= dir
    qemu: str                   # QEMU binary
    qemu_base: tuple            # arguments every boot of this arch gets
    console: str                # kernel console device
    channel_dev: str            # the verdict channel as the guest sees it
    channel_args: tuple         # QEMU arguments creating it ({path} filled)
    # configs/ fragments, merged in this order: debug* ones only into the
    # test kernels, bench* ones only into the benchmark kernels.
    fragments: tuple
    firmware: dict = field(default_factory=dict)   # name -> -bios file
    # Command line that makes QMP's inject-nmi end a hung guest with a
    # panic (and so the base's panic report); '' where QEMU's machine
    # cannot inject one.
    nmi_cmdline: str = ''


ARCHES = {
    'x86_64': Arch(
        name='x86_64',
        cross_compile='',
        guest_cc='gcc',
        image='arch/x86/boot/bzImage',
        qemu='qemu-system-x86_64',
        # TCG's "max" CPU has 5-level paging (LA57) under QEMU 7.2 and 10.
        # With it the v7.3-rc7 debug kernel reports, in some boots, a KASAN
        # wild-memory-access in do_raw_spin_lock() from an interrupt under
        # identify_cpu(), 3-6 ms into boot, before any code of the series
        # runs (2 of 8 boots under QEMU 10; the x86_64 KUnit boot under
        # 7.2 once).  The guests run without LA57, so that a boot judges
        # the series, not that.
        qemu_base=('-accel', 'tcg', '-cpu', 'max,la57=off'),
        console='ttyS0',
        channel_dev='/dev/ttyS1',
        channel_args=('-chardev', 'file,id=vbout,path={path}',
                      '-device', 'isa-serial,chardev=vbout'),
        fragments=('common', 'x86_64', 'debug', 'debug-x86_64', 'bench'),
        nmi_cmdline='unknown_nmi_panic',
    ),
    'arm64': Arch(
        name='arm64',
        cross_compile='aarch64-linux-gnu-',
        guest_cc='aarch64-linux-gnu-gcc',
        image='arch/arm64/boot/Image',
        qemu='qemu-system-aarch64',
        # pauth-impdef: TCG's default QARMA pointer authentication is slow.
        qemu_base=('-accel', 'tcg', '-cpu', 'max,pauth-impdef=on'),
        console='ttyAMA0',
        channel_dev='/dev/hvc0',
        channel_args=('-device', 'virtio-serial-device',
                      '-chardev', 'file,id=vbout,path={path}',
                      '-device', 'virtconsole,chardev=vbout'),
        fragments=('common', 'arm64', 'debug', 'debug-arm64', 'bench'),
        firmware={'edk2': '/usr/share/qemu-efi-aarch64/QEMU_EFI.fd'},
    ),
}


def fragments(arch, flavour, base='mainline'):
    """The fragments of a flavour: 'test' or 'bench'.  A test kernel also
    gets configs/debug-BASE.config where there is one: options that only
    one base's tree has (a suite of the series that the backport lacks)."""
    skip = 'bench' if flavour == 'test' else 'debug'
    out = [f for f in arch.fragments if not f.startswith(skip)]
    if flavour == 'test' and os.path.exists(
            os.path.join(CONFIGS, f'debug-{base}.config')):
        out.append(f'debug-{base}')
    return out


if __name__ == '__main__':
    # For the shell scripts: fragments, cross prefix and image of an arch.
    import sys
    a = ARCHES[sys.argv[1]]
    flavour = sys.argv[2] if len(sys.argv) > 2 else 'test'
    print(' '.join(fragments(a, flavour, os.environ.get('BASE', 'mainline'))))
    print(a.cross_compile)
    print(a.image)
