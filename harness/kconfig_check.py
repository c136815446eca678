#!/usr/bin/env python3
"""Fail when an option a config fragment asks for did not survive.

Usage: kconfig_check.py .config FRAGMENT...

merge_config.sh only warns when olddefconfig drops or changes a requested
value (an unmet dependency, a renamed symbol); here that is an error
naming the fragment, the option, and what it became.
"""
import re
import sys


def read(path):
    vals = {}
    with open(path) as f:
        for line in f:
            m = re.match(r'(CONFIG_\w+)=(.*)', line)
            if m:
                vals[m.group(1)] = m.group(2)
                continue
            m = re.match(r'# (CONFIG_\w+) is not set', line)
            if m:
                vals[m.group(1)] = 'n'
    return vals


def main():
    final = read(sys.argv[1])
    bad = 0
    for frag in sys.argv[2:]:
        for opt, want in read(frag).items():
            got = final.get(opt, 'n')
            if got != want:
                print(f'{frag}: {opt}={want} requested, final .config has '
                      f'{opt}={got}', file=sys.stderr)
                bad += 1
    if bad:
        print(f'{bad} requested option(s) did not survive olddefconfig',
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
