"""Lints of the classroom guide (docs/tp/), run without a lab.

- Time: each séance states its length on one line, `**Durée** : 2 h, dont
  10 min de mise en route.` (English: `**Time**: 2 h, 10 min of it to get
  going.`), and each of its numbered sections its minutes, `## 2. Titre
  (25 min)`; a section marked `(25 min, facultatif)` / `(25 min, optional)`
  is left out. The sections plus the set-up must fit the length.
- Words: the glossary (fr/glossaire.md, en/glossary.md) lists, in a table
  under its last heading, the words it retires (« … » or "…" in the first
  column); none may come back on another page of its language
  (case-insensitive, across a line break, at the start of a word).

`python3 -m harness tplint docs/tp` prints every problem as FILE:LINE: what,
and exits 1 when there is one.
"""

import os
import re

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
    """(line, message) for each retired word found in a page, at the line
    where it starts."""
    problems = []
    for w in words:
        for m in _retired_pattern(w).finditer(text):
            problems.append((text.count("\n", 0, m.start()) + 1, f"« {w} » is retired by the glossary"))
    return sorted(problems)


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
