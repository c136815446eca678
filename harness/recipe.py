"""The admin guide's recipe that lists every PCI device with its driver,
group, group type, request and iommu_translation state using standard
tools.  The guest runs it word for word as the series' documentation
gives it (the literal block is taken from the mainline tree), under
busybox's sh, and the judge compares its lines with the guest's own
report.
"""
import re

# Where the series documents it, in the kernel tree.
RST = 'Documentation/admin-guide/iommu-domains.rst'
# Where the initramfs holds it, and the step that runs it.
SCRIPT = '/vb/recipe.sh'
STEP = f'exec /bin/sh {SCRIPT}'
# The busybox applets the recipe uses besides sh's builtins; each is a
# link to /bin/busybox in the initramfs.
APPLETS = ('sh', 'cat', 'readlink', 'basename')
COLUMNS = ('DEVICE', 'DRIVER', 'GROUP', 'TYPE', 'REQUEST', 'TRANSLATION')

_BLOCK = re.compile(r'^( +)for dev in /sys/bus/pci/devices/\*; do\n'
                    r'(?:\1.*\n|\n)*?\1done\n', re.M)


class RecipeError(Exception):
    pass


def extract(text):
    """The recipe's shell text: the one literal block of the page that
    loops over /sys/bus/pci/devices, dedented."""
    blocks = list(_BLOCK.finditer(text))
    if len(blocks) != 1:
        raise RecipeError(f'{RST}: {len(blocks)} literal blocks loop over '
                          f'/sys/bus/pci/devices, not one')
    indent = len(blocks[0].group(1))
    return ''.join(line[indent:] + '\n'
                   for line in blocks[0].group(0).splitlines())


def rows(lines):
    """The recipe's output: {BDF: {COLUMN: value}}; None for a line that
    does not have its six fields (a broken recipe or a value with a
    blank)."""
    out = {}
    for line in lines:
        vals = line.split()
        out[vals[0] if vals else line] = (
            dict(zip(COLUMNS, vals)) if len(vals) == len(COLUMNS) else None)
    return out
