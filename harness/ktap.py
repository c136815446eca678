"""Read KUnit results (KTAP) out of a kernel console log, or a kselftest's
TAP output, with the kernel's own parser (tools/testing/kunit/
kunit_parser.py), not a second one.

The parser is the mainline tree's (bases.BASES['mainline'].tree, the
tree make tree extracts first): KTAP is the same format whatever kernel
printed it, and 6.12's copy of the module has another interface.  What
make check needs of its result: each top-level result (one per suite, or
per test of a kselftest) with its failing subtests, and the top-level
plan.
"""
import contextlib
import importlib.util
import io
import os
import sys

import bases

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PARSER = {}


class ParserMissing(Exception):
    pass


def _parser():
    """kunit_parser of the mainline tree, imported once."""
    if 'mod' not in _PARSER:
        top = os.path.join(ROOT, bases.BASES[bases.DEFAULT].tree,
                           'tools', 'testing', 'kunit')
        path = os.path.join(top, 'kunit_parser.py')
        if not os.path.exists(path):
            raise ParserMissing(f'no {os.path.relpath(path, ROOT)} '
                                f'(make tree extracts it)')
        # kunit_parser imports its siblings (kunit_printer) by name.
        sys.path.insert(0, top)
        try:
            spec = importlib.util.spec_from_file_location('kunit_parser',
                                                          path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules['kunit_parser'] = mod    # its dataclasses need it
            spec.loader.exec_module(mod)
        finally:
            sys.path.remove(top)
        _PARSER['mod'] = mod
    return _PARSER['mod']


def _skipped(suite, skipped):
    names = []
    for case in suite.subtests:
        if case.status == skipped:
            names.append(case.name)
        else:
            names += [f'{case.name}/{p.name}' for p in case.subtests
                      if p.status == skipped]
    return names


def parse(console):
    """Returns (plan or None, {name: {'ok', 'skip', 'failed': [...],
    'skipped': [...]}}) for the top-level results; plan is None where no
    KTAP started.  'skipped' names the suite's cases that skipped, and the
    parameters that skipped of a case that did not (CASE/PARAM)."""
    kp = _parser()
    status = kp.TestStatus
    printer = sys.modules['kunit_printer'].null_printer
    with contextlib.redirect_stdout(io.StringIO()):
        test = kp.parse_run_tests(console.splitlines(keepends=True),
                                  printer)
    if test.status in (status.FAILURE_TO_PARSE_TESTS, status.NO_TESTS) \
            and not test.subtests:
        return None, {}
    results = {}
    for sub in test.subtests:
        results[sub.name] = {
            'ok': sub.status in (status.SUCCESS, status.SKIPPED),
            'skip': sub.status == status.SKIPPED,
            'failed': [t.name for t in sub.subtests
                       if t.status in (status.FAILURE,
                                       status.TEST_CRASHED)],
            'skipped': _skipped(sub, status.SKIPPED),
        }
    return test.expected_count, results
