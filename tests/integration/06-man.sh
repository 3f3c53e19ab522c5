#!/bin/bash
# 06-man.sh - the man pages against the tool.  user/tcpflags.8 and
# user/tcpflags-rules.5 are clean under `mandoc -Tlint` and groff
# (`man --warnings`); tcpflags(8) documents, under each command, exactly
# the options of its table (as `tcpflags completion list` prints the
# tables: names, short names, values), and every option it names anywhere
# is one the tool takes; its global options and exit codes are the tool's;
# tcpflags-rules(5) names every word of the rule language and the guard
# line (user/rules.c, user/guardstate.c), and each word it marks as one
# (Cm) is one.  Then, in a lab, the pages' examples run.
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
t_tmp man
MAN8="$ROOT/user/tcpflags.8"
MAN5="$ROOT/user/tcpflags-rules.5"

# ---- lint: mandoc's every level, but for manuals this machine lacks
# (tcpflags' own before they are installed, and whatever man pages the
# packages here did not bring: a STYLE note that depends on the host)
for page in "$MAN8" "$MAN5"; do
    name=$(basename "$page")
    if ! command -v mandoc >/dev/null; then
        fail "mandoc -Tlint $name" "mandoc is missing (scripts/install-deps.sh --test)"
        continue
    fi
    out=$(mandoc -Tlint "$page" 2>&1 |
          grep -v -e 'STYLE: referenced manual not found' -e 'mandoc.db lacks')
    check_eq "mandoc -Tlint $name: no message" "$out" ""
    # groff through man-db, every warning on; the page must also render
    out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >"$TMP/$name.txt")
    check_eq "man --warnings $name: no warning" "$out" ""
    n=$(grep -c . "$TMP/$name.txt")
    if [ "$n" -gt 100 ]; then pass "man $name renders ($n lines)"
    else fail "man $name renders" "only $n lines"; fi
done

"$TCPF" completion list >"$TMP/list" ||
    fail "completion list" "exited $?"

"$PY" - "$TMP/list" "$MAN8" "$MAN5" "$ROOT/user/log.h" <<'EOF'
import re, subprocess, sys

listing, man8, man5, log_h = sys.argv[1:]
failed = 0


def check(name, ok, why):
    global failed
    print(('PASS %s' % name) if ok else ('FAIL %s: %s' % (name, why)))
    failed += not ok


# ---- the tables, as the tool prints them
cmds, groups, opts, globs, words = [], [], {}, set(), {}
for line in open(listing):
    f = line.rstrip('\n').split('\t')
    if f[0] == 'command':
        cmds.append(f[1])
        opts.setdefault(f[1], {})
    elif f[0] == 'option':
        opts[f[1]][f[2]] = {'short': f[3], 'metavar': f[4],
                            'hidden': 'hidden' in f[5]}
    elif f[0] == 'global':
        globs.add(f[1])
    elif f[0] in ('rule', 'guard'):
        words.setdefault((f[0], f[1]), set()).add(f[2])
groups = sorted({c.split()[0] for c in cmds if ' ' in c})
leaves = [c for c in cmds if c not in groups]
check('the listing: at least 16 commands and subcommands', len(leaves) >= 16,
      'only %s' % leaves)
check('the listing: at least 30 options', sum(map(len, opts.values())) >= 30,
      'only %d' % sum(map(len, opts.values())))


# ---- a page as mandoc parses it: nodes of (name, type, children)
class Node:
    def __init__(self, name, kind, indent):
        self.name, self.kind, self.indent, self.kids = name, kind, indent, []

    def find(self, name, kind=None):
        for k in self.kids:
            if k.name == name and (kind is None or k.kind == kind):
                yield k
            yield from k.find(name, kind)

    def part(self, kind):
        return next((k for k in self.kids if k.kind == kind), None)

    def text(self, brackets=True):
        """The words under it; an Op's as [...]."""
        if self.kind == 'text':
            return [self.name]
        out = []
        for k in self.kids:
            out += k.text(brackets)
        if brackets and self.name in ('Op', 'Oo') and self.kind == 'block':
            out = ['['] + out + [']']
        return out


LINE = re.compile(r'^( *)(.*) \((block|head|body|tail|elem|text|comment|'
                  r'eqn|tbl)\)( .*)?$')


def tree(page):
    out = subprocess.run(['mandoc', '-Ttree', page], capture_output=True,
                         text=True).stdout
    root = Node('root', 'root', -1)
    stack = [root]
    # split at newlines only: splitlines() also splits at the \x1e mandoc
    # marks a word's hyphen with
    for line in out.split('\n'):
        m = LINE.match(line)
        if not m:
            continue
        # \x1e: a hyphen where the line may break
        node = Node(m.group(2).replace('\x1e', '-'), m.group(3),
                    len(m.group(1)))
        while stack[-1].indent >= node.indent:
            stack.pop()
        stack[-1].kids.append(node)
        stack.append(node)
    return root


def section(root, kind, title):
    for b in root.find(kind, 'block'):
        if ' '.join(b.part('head').text()) == title:
            return b
    return None


def fls(node):
    """The options its Fl macros name: --long, -s."""
    return ['-' + ''.join(fl.text()) for fl in node.find('Fl', 'elem')]


def mentions(node, cmd=None):
    """(command, option) for each Fl under node: an Fl right after a Cm
    that names a command (".Cm stats Fl -watch") is that command's."""
    out, prev = [], None
    for k in node.kids:
        if k.name == 'Fl' and k.kind == 'elem':
            c = ' '.join(prev.text()) if prev is not None and \
                prev.name == 'Cm' else ''
            out.append((c if c in opts else cmd, '-' + ''.join(k.text())))
            continue
        out += mentions(k, cmd)
        if k.name != 'Fl':
            prev = k
    return out


def item_heads(node):
    return [it.part('head') for it in node.find('It', 'block')]


def value_of(head):
    """What follows the last Fl of an item's head, joined: its value."""
    words, seen = [], False
    for k in head.kids:
        if k.name == 'Fl':
            words, seen = [], True
        elif seen:
            words += k.text()
    return ''.join(words)


if not subprocess.run(['sh', '-c', 'command -v mandoc'],
                      capture_output=True).returncode == 0:
    check('man pages parsed', False, 'mandoc is missing')
    sys.exit(1)

# ---- tcpflags(8)
t8 = tree(man8)
every = {o for c in opts for o in opts[c]} | \
        {opts[c][o]['short'] for c in opts for o in opts[c] if opts[c][o]['short']}
commands = section(t8, 'Sh', 'COMMANDS')
check('tcpflags.8: a COMMANDS section', commands is not None, 'none')
subs = {' '.join(s.part('head').text()): s for s in commands.find('Ss', 'block')}
for key in cmds:
    check('tcpflags.8: %s has its subsection' % key, key in subs,
          'no ".Ss %s" under COMMANDS' % key)
for key in subs:
    check('tcpflags.8: subsection %s is a command' % key, key in cmds,
          'the tool has no command "%s"' % key)
for key in leaves:
    if key not in subs:
        continue
    body = subs[key].part('body')
    table = {o: v for o, v in opts[key].items() if not v['hidden']}
    documented = {}
    for head in item_heads(body):
        names = fls(head)
        if head.kids and head.kids[0].name == 'Fl':
            longs = [n for n in names if n.startswith('--')]
            shorts = [n for n in names if not n.startswith('--')]
            for o in longs:
                documented[o] = (shorts, value_of(head))
    for o, v in sorted(table.items()):
        check('tcpflags.8: %s %s is documented' % (key, o), o in documented,
              'no ".It Fl %s" under ".Ss %s"' % (o[1:], key))
        if o not in documented:
            continue
        shorts, value = documented[o]
        want = [v['short']] if v['short'] else []
        check('tcpflags.8: %s %s: short name %s' % (key, o, want or 'none'),
              shorts == want, 'the page gives %s' % shorts)
        check('tcpflags.8: %s %s takes %s' % (key, o, v['metavar'] or 'no value'),
              value == v['metavar'], 'the page says "%s"' % value)
    for o in sorted(set(documented) - set(table)):
        check('tcpflags.8: %s %s is an option' % (key, o), False,
              'the table of %s has no %s' % (key, o))
    stray = []
    for c, o in mentions(body, key):
        t = {n: v for n, v in opts[c].items() if not v['hidden']}
        if o not in set(t) | {v['short'] for v in t.values()} | {'-h', '--help'}:
            stray.append('%s %s' % (c, o))
    check('tcpflags.8: %s names only its own options' % key, not stray,
          'not options: %s' % sorted(stray))

# the synopsis: each line's options are its command's
synopsis = section(t8, 'Sh', 'SYNOPSIS').part('body')
seen = set()
for nm in synopsis.find('Nm', 'block'):
    body = nm.part('body')
    # the command, and the subcommand of a group
    w = []
    for k in body.kids:
        if k.name != 'Cm':
            break
        w += k.text()
    key = ' '.join(w[:2] if w and w[0] in groups else w[:1])
    names = set(fls(body))
    if not key:
        check('tcpflags.8: synopsis %s are global options' % sorted(names),
              names <= globs, 'not global: %s' % sorted(names - globs))
        continue
    seen.add(key)
    table = opts.get(key, {})
    known = set(table) | {v['short'] for v in table.values() if v['short']}
    check('tcpflags.8: synopsis of %s names its options' % key,
          key in opts and names <= known,
          'not options of %s: %s' % (key, sorted(names - known)))
for key in leaves:
    check('tcpflags.8: the synopsis has %s' % key, key in seen,
          'no line ".Nm ... Cm %s"' % key)

# the global options, and every option named anywhere
desc = section(t8, 'Sh', 'DESCRIPTION').part('body')
g = set()
for head in item_heads(desc):
    if head.kids and head.kids[0].name == 'Fl':
        g |= set(fls(head))
check('tcpflags.8: the global options are the tool\'s', g == globs,
      'page %s, tool %s' % (sorted(g), sorted(globs)))
stray = sorted(set(fls(t8)) - every - globs)
check('tcpflags.8: every option it names is one', not stray,
      'no command takes %s' % stray)

# exit codes: user/log.h's
codes = set(re.findall(r'#define EXIT_[A-Z]+ (\d+)', open(log_h).read()))
exits = section(t8, 'Sh', 'EXIT STATUS')
got = {' '.join(h.text()) for h in item_heads(exits)} if exits else set()
check('tcpflags.8: EXIT STATUS lists the codes of user/log.h %s' % sorted(codes),
      got == codes, 'the page lists %s' % sorted(got))

# the examples' command lines: their options are their command's
ex = section(t8, 'Sh', 'EXAMPLES')
for bd in ex.find('Bd', 'block'):
    text = ' '.join(bd.text()).replace('\\ ', ' ')
    for line in re.split(r'(?:^|\s)[#$] ', text):
        w = line.split()
        if not w or w[0] != 'tcpflags':
            continue
        key = w[1] + (' ' + w[2] if w[1] in groups else '')
        used = {x for x in w if x.startswith('-') and not re.match(r'-\d', x)}
        table = opts.get(key, {})
        known = set(table) | {v['short'] for v in table.values() if v['short']}
        if key == 'rule add':
            known |= words.get(('rule', 'match'), set()) | \
                     words.get(('rule', 'priority'), set())
        check('tcpflags.8: example "%s" takes its options' % ' '.join(w[:3]),
              key in opts and used <= known,
              'not options of %s: %s' % (key, sorted(used - known)))

# ---- tcpflags-rules(5)
t5 = tree(man5)
PUNCT = {',', '|', '.', ':', ';', '(', ')', '[', ']'}
cm = {w for n in t5.find('Cm', 'elem') for w in n.text(False)} - PUNCT
defined = set()
for head in item_heads(t5):
    for n in head.find('Cm', 'elem'):
        defined |= set(n.text(False)) - PUNCT
    for n in head.kids:
        if n.name == 'Cm':
            defined |= set(n.text(False)) - PUNCT
keywords = set().union(*words.values())
# the words each defined in an item of its own, the rest named somewhere
own = [('rule', k) for k in ('priority', 'match', 'preset', 'action', 'ratelimit',
                             'per', 'line', 'flag', 'phase')] + \
      [('guard', 'setting'), ('guard', 'list')]
named = [('rule', 'unit'), ('rule', 'state'), ('guard', 'mode')]
check('tcpflags-rules.5: the tool lists at least 90 words', len(keywords) >= 90,
      'only %d' % len(keywords))
for kind in own + named:
    for w in sorted(words.get(kind, ())):
        where = defined if kind in own else cm
        check('tcpflags-rules.5: %s %s "%s"' % (kind[0], kind[1], w),
              w in where, 'not %s' % ('an item (.It Cm %s)' % w if kind in own
                                       else 'named (Cm %s)' % w))
check('tcpflags-rules.5: every word it marks (Cm) is a keyword',
      not cm - keywords, 'not keywords: %s' % sorted(cm - keywords))
sys.exit(1 if failed else 0)
EOF

# ---- the examples run: tcpflags-rules(5)'s rules and file, tcpflags(8)'s
# rule and guard lines, on a lab interface
"$PY" - "$MAN5" "$MAN8" "$TMP" <<'EOF'
import re, sys
man5, man8, tmp = sys.argv[1:]


def blocks(page):
    text = open(page).read().split('.Sh EXAMPLES')[1]
    return re.findall(r'\.Bd -literal[^\n]*\n(.*?)\.Ed', text, re.S)


b5 = blocks(man5)
open(tmp + '/ex-rules.sh', 'w').write(b5[0])
open(tmp + '/ex.rules', 'w').write(b5[1])
lines = []
for b in blocks(man8):
    b = b.replace('\\e\n', ' ')
    for line in b.splitlines():
        w = line.split()
        if len(w) > 3 and w[:2] == ['#', 'tcpflags'] and w[2] in ('rule', 'guard'):
            lines.append(' '.join(w[1:]).replace('\\e', '\\'))
open(tmp + '/ex8.sh', 'w').write('\n'.join(lines) + '\n')
EOF
new_lab
srv "$TCPF" attach "$LAB_SRV_IF" >/dev/null 2>&1 ||
    fail "examples: attach" "cannot attach to the lab"
run_examples() {
    local name=$1 file=$2 n=0 line out
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        n=$((n + 1))
        line=${line//eth0/$LAB_SRV_IF}
        # shellcheck disable=SC2086
        if out=$(srv $line 2>&1); then pass "$name: $line"
        else fail "$name: $line" "$out"; fi
    done <"$file"
    [ "$n" -ge 3 ] || fail "$name: at least 3 lines" "only $n"
}
sed -i "s|^tcpflags |$TCPF |" "$TMP/ex-rules.sh" "$TMP/ex8.sh"
run_examples "tcpflags-rules.5 example" "$TMP/ex-rules.sh"
srv "$TCPF" rule flush "$LAB_SRV_IF" >/dev/null
out=$(srv "$TCPF" apply "$LAB_SRV_IF" "$TMP/ex.rules" 2>&1)
check_eq "tcpflags-rules.5: its example file applies" "$?" 0
[ -n "$out" ] && echo "# ${out//$'\n'/$'\n'# }"
n=$(srv "$TCPF" rule list "$LAB_SRV_IF" --json | grep -o '"id": ' | wc -l)
check_eq "tcpflags-rules.5: its example file's rules are all in force" "$n" \
    "$(grep -cvE '^(#|set |default |guard |$)' "$TMP/ex.rules")"
got=$(srv "$TCPF" guard "$LAB_SRV_IF" --json | grep -o '"mode": "[a-z]*"')
check_eq "tcpflags-rules.5: its example file's guard line is in force" "$got" '"mode": "auto"'
srv "$TCPF" guard "$LAB_SRV_IF" off >/dev/null
srv "$TCPF" rule flush "$LAB_SRV_IF" >/dev/null
run_examples "tcpflags.8 example" "$TMP/ex8.sh"
srv "$TCPF" detach "$LAB_SRV_IF" >/dev/null
[ "$T_FAILED" -eq 0 ]
