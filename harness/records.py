"""Guest records: the lines the guest wrote on its verdict channel.

Every line is "VB <kind> key=value ..." (values without blanks), or a
wrapped line of a program the guest ran: "VB ktap <line>" (the
kselftest) or "VB out <line>" (an exec step's program, attached to that
step's record as its output).  RECORDS gives each kind's fields and the
form of their values; a line that fits none, a field missing or
malformed, or any other text on the channel is a bad record, which
bad_records() names and the judges fail the boot on.
"""
import re

from supervise import read_text

INT = re.compile(r'-?\d+')
STEP = re.compile(r'[1-9]\d*')
ANY = re.compile(r'\S*')
# Each kind's required fields (and the form of their values); other
# fields are allowed (a step's own, a trace event's).
RECORDS = {
    'start': {'plan': INT, 'disks': INT},
    'dev': {'step': STEP, **dict.fromkeys(
        ('bdf', 'id', 'class', 'driver', 'group', 'type', 'iommu', 'irq',
         'serial'), ANY)},
    'dma': {'step': STEP, 'irqcpus': INT, **dict.fromkeys(
        ('serial', 'bdf', 'dev', 'read', 'write', 'detail'), ANY)},
    'bind': {'step': STEP, 'bdf': ANY, 'rc': ANY},
    'step': {'step': STEP, 'name': ANY, 'rc': ANY},
    'hotplug-ready': {'step': STEP, 'id': ANY, 'bdf': ANY},
    'hotplug': {'step': STEP, 'id': ANY, 'bdf': ANY, 'state': ANY,
                'secs': INT},
    'kselftest': {'step': STEP, 'rc': ANY},
    'stress': {'step': STEP, 'serial': ANY, 'bdf': ANY, 'detail': ANY,
               **dict.fromkeys(('ops', 'bytes', 'mismatches', 'errors'),
                               INT)},
    'flip': {'step': STEP, 'bdf': ANY, 'writes': INT, 'errors': INT,
             'final': ANY, 'detail': ANY},
    'blk': {'step': STEP, 'round': INT, 'rc': INT, **dict.fromkeys(
        ('serial', 'bdf', 'seqread', 'seqwrite', 'randread', 'detail'),
        ANY)},
    'trace': {'step': STEP, 'event': ANY},
    'end': {},
}
WRAPPED = {'ktap', 'out'}


def parse_verdict(path):
    """The guest's records as dicts, in order.  A wrapped line (ktap, out)
    keeps its text whole, as line; an exec step's record gets the out
    lines before it as output; text that is no record becomes a 'stray'
    record (for bad_records())."""
    recs, outs = [], []
    for line in read_text(path).replace('\r', '').split('\n'):
        word = line.split(' ', 2)
        if line.startswith('VB ') and len(word) > 1 and word[1] in WRAPPED:
            rest = line[len(f'VB {word[1]} '):]
            if word[1] == 'out':
                outs.append(rest)
            else:
                recs.append({'kind': 'ktap', 'line': rest})
            continue
        if not line.startswith('VB '):
            if line:
                recs.append({'kind': 'stray', 'line': line})
            continue
        words = line.split()
        rec = {'kind': words[1] if len(words) > 1 else ''}
        for w in words[2:]:
            k, _, v = w.partition('=')
            rec[k] = v
        if rec['kind'] == 'step' and rec.get('name') == 'exec':
            rec['output'] = outs
        outs = []
        recs.append(rec)
    return recs


def bad_records(recs):
    """What is wrong with the records, one entry per bad record: a stray
    line, an unknown kind, a missing or malformed field."""
    bad = []
    for rec in recs:
        kind = rec['kind']
        if kind == 'stray':
            bad.append(f'not a record: {rec["line"][:60]!r}')
            continue
        if kind in WRAPPED:
            continue
        fields = RECORDS.get(kind)
        if fields is None:
            bad.append(f'unknown kind {kind!r}')
            continue
        for key, form in fields.items():
            if key not in rec:
                bad.append(f'{kind}: no {key}=')
            elif not form.fullmatch(rec[key]):
                bad.append(f'{kind}: {key}={rec[key]!r}')
    return bad
