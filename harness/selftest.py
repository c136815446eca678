"""The harness's own tests: the parts whose mistakes would hide a failure.

- guest and host agree on the DMA check's data (vbinit.c vs dmadata.py),
  and the hash matches published FNV-1a test vectors;
- the scenario loader rejects malformed files with a message naming the
  problem (a typo must not drop an expectation);
- the KTAP reader finds passing, failing and missing suites;
- the xfail logic: exact failure -> xfail, extra failure -> fail, a fixed
  failure -> xpass.
"""
import os
import subprocess
import tempfile

import boot
import dmadata
import ktap
import scenario as scn

COUNT = 0

GOOD = '''description = "t"
arch = "x86_64"
machine = "q35"
[[disk]]
id = "d0"
bus = "pcie.0"
expect = { group = "none", dma = "pass" }
'''

# (mutation of GOOD, text the error must contain)
BAD = [
    (GOOD.replace('machine = "q35"\n', ''), 'missing "machine"'),
    (GOOD + 'machin = "q35"\n', 'unknown key "machin"'),
    (GOOD.replace('x86_64', 'mips'), 'unknown arch'),
    (GOOD.replace('group = "none"', 'group = "DMAFQ"'), 'group "DMAFQ"'),
    (GOOD.replace('dma = "pass"', 'dma = "ok"'), 'dma "ok"'),
    (GOOD.replace(', dma = "pass"', ''), 'states its dma result'),
    (GOOD.replace('dma = "pass"', 'dma = "skip"'), 'dma_skip reason'),
    (GOOD.replace('group =', 'gruop ='), 'unknown key "gruop"'),
    (GOOD.replace('id = "d0"', 'id = "d 0"'), 'short serial'),
    (GOOD + '[xfail]\nreason = "r"\nchecks = []\n', 'lists no checks'),
    (GOOD + '[log]\nallow = [ { match = "x" } ]\n', 'missing "reason"'),
    (GOOD + '[[device]]\nid = "r"\ndriver = "x"\nexpect = { irq = "MSI" }\n',
     'expect needs "bdf"'),
    (GOOD.replace('arch =', 'smp = "2"\narch ='), '"smp" must be int'),
    (GOOD.replace('machine = "q35"', 'machine = "q35"\nfirmware = "edk2"'),
     'no firmware "edk2"'),
]

KTAP = '''[    1.0] KTAP version 1
[    1.0] 1..3
[    1.1]     KTAP version 1
[    1.1]     # Subtest: good
[    1.1]     ok 1 a
[    1.1] ok 1 good
[    1.2]     # Subtest: bad
[    1.2]     ok 1 a
[    1.2]     not ok 2 b
[    1.2] not ok 2 bad
[    1.3] ok 3 skipped # SKIP no hardware
'''


def run():
    global COUNT
    fails = []

    def case(ok, what):
        global COUNT
        COUNT += 1
        if not ok:
            fails.append(what)

    # Published FNV-1a 64 vectors.
    for text, want in ((b'', 0xcbf29ce484222325), (b'a', 0xaf63dc4c8601ec8c),
                       (b'foobar', 0x85944171f73967e8)):
        case(dmadata.fnv1a(text) == want, f'fnv1a({text!r})')
    guest = os.path.join(boot.BUILD, 'vbinit-x86_64')
    for seed, size in ((1, 65536), (0x9e3779b97f4a7c15, 4 << 20)):
        try:
            r = subprocess.run([guest, '--data', f'{seed:x}', str(size)],
                               capture_output=True, text=True)
        except OSError as e:
            case(False, f'cannot run the guest program: {e}')
            continue
        want = dmadata.fnv1a(dmadata.stream(seed, size))
        case(r.returncode == 0 and r.stdout.strip() != '' and
             int(r.stdout, 16) == want,
             f'guest/host data disagree for seed {seed:x}')
    # The host's check of what the guest wrote finds a flipped byte.
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, 'disk.img')
        with open(img, 'wb') as f:
            f.write(dmadata.stream(7, 1 << 20))
        case(dmadata.verify_image(img, 7, 1 << 20) is None, 'verify good')
        with open(img, 'r+b') as f:
            f.seek(300000)
            byte = f.read(1)
            f.seek(300000)
            f.write(bytes([byte[0] ^ 1]))
        case(dmadata.verify_image(img, 7, 1 << 20) == 300000 // 4096 * 4096,
             'verify finds a flipped byte')
        case(dmadata.verify_image(img, 8, 1 << 20) == 0,
             'verify finds a wrong seed')
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'good.toml')
        with open(path, 'w') as f:
            f.write(GOOD)
        try:
            scn.load(path)
            case(True, '')
        except scn.ScenarioError as e:
            case(False, f'good scenario rejected: {e}')
        for i, (text, msg) in enumerate(BAD):
            path = os.path.join(tmp, f'bad{i}.toml')
            with open(path, 'w') as f:
                f.write(text)
            try:
                scn.load(path)
                case(False, f'bad scenario {i} accepted ({msg})')
            except scn.ScenarioError as e:
                case(msg in str(e), f'bad scenario {i}: "{e}" lacks "{msg}"')
    plan, suites = ktap.parse(KTAP)
    case(plan == 3, 'ktap plan')
    case(suites.get('good', {}).get('ok') is True, 'ktap good')
    case(suites.get('bad', {}).get('ok') is False and
         suites['bad']['failed'] == ['b'], 'ktap bad')
    case(suites.get('skipped', {}).get('skip') is True, 'ktap skip')
    case(ktap.parse('no ktap here')[1] == {}, 'ktap none')
    chk = [{'name': 'a', 'ok': False}, {'name': 'b', 'ok': True}]
    xf = {'xfail': {'reason': 'r', 'checks': ['a']}}
    case(boot.outcome(xf, chk) == 'xfail', 'xfail exact')
    case(boot.outcome({'xfail': {'reason': 'r', 'checks': ['a', 'b']}},
                      chk) == 'xpass', 'xpass')
    case(boot.outcome({'xfail': {'reason': 'r', 'checks': ['b']}}, chk)
         == 'fail', 'xfail extra failure')
    case(boot.outcome({}, chk) == 'fail', 'plain fail')
    return fails
