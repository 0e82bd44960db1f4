"""Lints of the classroom guide (docs/tp/), run without a lab.

- Time: each séance states its length on one line, `**Durée** : 2 h, dont
  10 min de mise en route.` (English: `**Time**: 2 h, 10 min of it to get
  going.`), and each of its numbered sections its minutes, `## 2. Titre
  (25 min)`; a section marked `(25 min, facultatif)` / `(25 min, optional)`
  is left out. The sections plus the set-up must fit the length.
- Words: the glossary (fr/glossaire.md, en/glossary.md) lists, in a table
  under its last heading, the words it retires (« … » or "…" in the first
  column); none may come back in the prose of another page of its language
  (case-insensitive, across a line break, at the start of a word).
- Typography (French pages): in prose, the space before `:` `;` `!` `?` is
  a no-break space (U+00A0; no space at all is English, a panel title
  quoted, and left alone), so is the one before `%` after a digit (« 5 % »;
  « 5% » is fixed too) and those inside « ». A line may not start with `:`
  `;` `!` `?` `%` or `»`, nor end with `«` (the line break would be a
  breaking space there). `typography_fix` makes the changes,
  `python3 -m harness tptypo FILE...` writes them.

Prose is what is left once fenced code, inline code, HTML comments, link
targets and autolinks are set aside.

`python3 -m harness tplint docs/tp` prints every problem as FILE:LINE: what,
and exits 1 when there is one.
"""

import os
import re
import sys

from .markdown import prose_lines

GLOSSARIES = {"fr": "glossaire.md", "en": "glossary.md"}
_LENGTH = re.compile(r"^\*\*(?:Durée|Time)\*\*\s*:\s*(\d+)\s*h(?:\s*(\d+))?\b(.*)$")
_SETUP = re.compile(r"dont (\d+) min|(\d+) min of it")
_SECTION = re.compile(r"^## \d+\. .*\((\d+) min(, (?:facultatif|optional))?\)\s*$")
_NUMBERED = re.compile(r"^## \d+\. ")
_QUOTED = re.compile(r"«\s*(.+?)\s*»|\"(.+?)\"")


def timing(text):
    """Problems of a page's durations, as (line, message); [] for a page with
    no length line (the index, the answer key)."""
    length = setup = None
    total, sections, problems = 0, [], []
    in_code = False
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        m = _LENGTH.match(line)
        if m:
            length = int(m[1]) * 60 + int(m[2] or 0)
            s = _SETUP.search(m[3])
            if not s:
                problems.append((n, "the length does not say the set-up minutes "
                                    "(« dont N min de mise en route » / « N min of it to get going »)"))
            else:
                setup = int(s[1] or s[2])
            length_line = n
            continue
        if _NUMBERED.match(line):
            m = _SECTION.match(line)
            if not m:
                problems.append((n, "a numbered section without its minutes, `(N min)` at the end"))
            elif not m[2]:
                total += int(m[1])
                sections.append(int(m[1]))
    if length is None:
        if sections:
            problems.append((1, "sections with minutes but no **Durée** / **Time** line"))
        return problems
    if setup is not None and total + setup > length:
        problems.append((length_line, f"sections {' + '.join(map(str, sections))} = {total} min "
                                      f"plus {setup} min of set-up exceed the {length} min stated"))
    return problems


def retired_words(glossary_text):
    """The words the glossary's last table retires (first column)."""
    last = glossary_text.rsplit("\n## ", 1)[-1]
    words = []
    for line in last.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|"):
            continue
        m = _QUOTED.fullmatch(cells[0])
        if m:
            words.append(m[1] or m[2])
    return words


def _retired_pattern(word):
    """A retired word as found in prose: whatever its case, its spaces any
    run of white space (a line break, a no-break space), at the start of a
    word (« rangée » is not in « arrangée ») but with any ending (plurals)."""
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, word.split())), re.IGNORECASE)


def word_problems(text, words):
    """(line, message) for each retired word found in a page's prose, at
    the line where it starts. Fenced code, HTML comments, link targets and
    autolinks are not prose; nor is inline code, except for a word that
    holds some itself (« seuil `le` »): PromQL, metric names and the lab's
    panel titles in backticks keep their own words."""
    with_code, without_code = _prose(text, keep_code=True), _prose(text, keep_code=False)
    problems = []
    for w in words:
        prose = with_code if "`" in w else without_code
        for m in _retired_pattern(w).finditer(prose):
            problems.append((prose.count("\n", 0, m.start()) + 1, f"« {w} » is retired by the glossary"))
    return sorted(problems)


# ------------------------------------------------------------- typography ---

NBSP = "\u00a0"
_CODE_SPAN = r"(`+).+?\1"
_NOT_PROSE = r"<!--.*?-->|(?<=\])\([^)]*\)|<https?://[^>]*>"
_VERBATIM = re.compile(_CODE_SPAN + "|" + _NOT_PROSE, re.S)
_HIDDEN = re.compile(_NOT_PROSE, re.S)
_SPACE = "[ \u202f]?"  # a plain or a narrow no-break space, or none
_TYPO_RULES = (
    # a space before : ; ! ? (none at all is English, a panel title or a
    # log line quoted in italics, left as it is), before a space, the end
    # or markup
    (re.compile(r"(?<=\S)[ \u202f]([:;!?])(?=[\s*_)\]»]|$)"), NBSP + r"\1"),
    (re.compile(r"(\d)" + _SPACE + "%"), r"\1" + NBSP + "%"),
    (re.compile("«" + _SPACE + r"(?=\S)"), "«" + NBSP),
    (re.compile(r"(?<=\S)" + _SPACE + "»"), NBSP + "»"),
)
_BAD_START = tuple(":;!?%»")


def _fenced_lines(text):
    """The indexes (from 0) of the lines of fenced code and their fences."""
    prose = {n - 1 for n, _ in prose_lines(text)}
    return [i for i in range(text.count("\n") + 1) if i not in prose]


def _prose(text, keep_code):
    """text with what is not prose blanked out (fenced code, HTML comments,
    link targets, autolinks, and inline code unless keep_code), newlines
    kept so that line numbers hold."""
    lines = text.split("\n")
    for i in _fenced_lines(text):
        lines[i] = ""
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))
    return (_HIDDEN if keep_code else _VERBATIM).sub(blank, "\n".join(lines))


def _chunks(text):
    """text cut into (is_prose, piece): runs of fenced lines, runs of the
    others; joined, the pieces give text back."""
    fenced, out = set(_fenced_lines(text)), []
    for i, line in enumerate(text.split("\n")):
        piece = line if i == 0 else "\n" + line
        if out and out[-1][0] == (i not in fenced):
            out[-1][1].append(piece)
        else:
            out.append((i not in fenced, [piece]))
    return [(p, "".join(pieces)) for p, pieces in out]


def _typeset(prose):
    """One run of prose lines with the typography rules applied: what is not
    prose is held aside (a private-use character, then its own newlines)
    while the rules run, then put back."""
    held = []

    def hold(m):
        held.append(m.group(0))
        return chr(0xE000 + len(held) - 1) + "\n" * m.group(0).count("\n")

    text = _VERBATIM.sub(hold, prose)
    for pattern, replacement in _TYPO_RULES:
        text = pattern.sub(replacement, text)
    bad = [n for n, line in enumerate(text.split("\n"))
           if line.lstrip().startswith(_BAD_START) or line.rstrip().endswith("«")]
    for i, segment in enumerate(held):
        text = text.replace(chr(0xE000 + i) + "\n" * segment.count("\n"), segment, 1)
    return text, bad


def typography_fix(text):
    """(fixed text, [(line, message)] of what the fix cannot do): a French
    page with the no-break spaces of the typography rules put in; only
    spaces change, never the line count."""
    out, problems, line = [], [], 1
    for is_prose, piece in _chunks(text):
        if is_prose:
            fixed, bad = _typeset(piece)
            out.append(fixed)
            for n in bad:
                s = fixed.split("\n")[n].strip()
                what = f"starts with {s[0]!r}" if s.startswith(_BAD_START) else "ends with «"
                problems.append((line + n, f"the line {what}: the line break is a breaking space, rewrap"))
        else:
            out.append(piece)
        line += piece.count("\n")
    return "".join(out), problems


def typography(text):
    """(line, message) for each line of a French page that breaks the
    typography rules."""
    fixed, problems = typography_fix(text)
    for n, (was, should) in enumerate(zip(text.split("\n"), fixed.split("\n")), 1):
        if was != should:
            at = next((i for i, (a, b) in enumerate(zip(was, should)) if a != b), len(was))
            snippet = should[max(0, at - 12):at + 12].replace(NBSP, "⍽")
            problems.append((n, f"a no-break space is missing (U+00A0, ⍽ here): « {snippet} »"))
    return sorted(problems)


def typeset_files(paths):
    """`python3 -m harness tptypo FILE...`: writes the typography fixes into
    each file, prints what it changed and what it cannot fix; 1 if some
    problem is left, 2 (nothing written) if a file cannot be read."""
    texts = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                texts[path] = f.read()
        except (OSError, UnicodeDecodeError) as e:
            print(f"tptypo: {path}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
            return 2
    left = 0
    for path, text in texts.items():
        fixed, problems = typography_fix(text)
        if fixed != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(fixed)
            changed = sum(a != b for a, b in zip(text.split("\n"), fixed.split("\n")))
            print(f"{path}: {changed} line(s) fixed")
        for n, msg in problems:
            print(f"{path}:{n}: {msg}")
        left += len(problems)
    return 1 if left else 0


# ------------------------------------------------------------------- tree ---

def lint(root):
    """Every problem under root (docs/tp), as 'FILE:LINE: message' strings."""
    out = []
    for lang, glossary in GLOSSARIES.items():
        folder = os.path.join(root, lang)
        if not os.path.isdir(folder):
            continue
        gpath = os.path.join(folder, glossary)
        words = []
        if os.path.exists(gpath):
            with open(gpath, encoding="utf-8") as f:
                words = retired_words(f.read())
            if not words:
                out.append(f"{gpath}:1: the glossary retires no word (a table under its last heading)")
        else:
            out.append(f"{gpath}:1: no glossary")
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".md"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            found = timing(text)
            if lang == "fr":
                found += typography(text)
            if name != glossary:
                found += word_problems(text, words)
            out += [f"{path}:{n}: {msg}" for n, msg in found]
    return out


def main(root):
    problems = lint(root)
    for p in problems:
        print(p)
    print(f"tplint {root}: {len(problems)} problem(s)")
    return 1 if problems else 0
