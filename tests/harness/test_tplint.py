import os
import tempfile
import unittest

from harness import tplint

PAGE = """# Séance 9

**Durée** : 1 h 30, dont 10 min de mise en route.

## 1. Un (30 min)

```markdown
## 7. Un titre de modèle, dans un bloc de code
```

## 2. Deux (40 min)

## 3. Trois (20 min, facultatif)

## Pour aller plus loin
"""

GLOSSARY = """# Glossaire

| terme | sens |
|---|---|
| **borne** | « hors ligne » ici ne compte pas |

## Mots à éviter

| au lieu de | dites |
|---|---|
| « seuil `le` » | « borne `le` » |
| « hors ligne » | « locale » |
"""


class Timing(unittest.TestCase):
    def test_sections_and_setup_that_fit(self):
        self.assertEqual(tplint.timing(PAGE), [])

    def test_sections_that_exceed_the_length(self):
        page = PAGE.replace("(40 min)", "(55 min)")
        [(line, msg)] = tplint.timing(page)
        self.assertEqual(line, 3)
        self.assertIn("30 + 55 = 85 min plus 10 min of set-up exceed the 90 min", msg)

    def test_an_optional_section_is_left_out(self):
        self.assertEqual(tplint.timing(PAGE.replace("(20 min, facultatif)", "(20 min, optional)")), [])
        [(_, msg)] = tplint.timing(PAGE.replace("(20 min, facultatif)", "(20 min)"))
        self.assertIn("= 90 min", msg)

    def test_english_length_line(self):
        page = PAGE.replace("**Durée** : 1 h 30, dont 10 min de mise en route.",
                            "**Time**: 1 h 15, 10 min of it to get going.")
        [(_, msg)] = tplint.timing(page)
        self.assertIn("exceed the 75 min", msg)

    def test_length_without_setup(self):
        page = PAGE.replace(", dont 10 min de mise en route", "")
        [(line, msg)] = tplint.timing(page)
        self.assertEqual(line, 3)
        self.assertIn("set-up", msg)

    def test_numbered_section_without_minutes(self):
        [(line, msg)] = tplint.timing(PAGE.replace("## 2. Deux (40 min)", "## 2. Deux"))
        self.assertEqual(line, 11)
        self.assertIn("without its minutes", msg)

    def test_page_without_length(self):
        self.assertEqual(tplint.timing("# Corrigé\n\n## Séance 1\n"), [])


class Words(unittest.TestCase):
    def test_retired_words_come_from_the_last_table(self):
        self.assertEqual(tplint.retired_words(GLOSSARY), ["seuil `le`", "hors ligne"])

    def test_a_retired_word_is_found_whatever_its_case(self):
        words = tplint.retired_words(GLOSSARY)
        found = tplint.word_problems("Une ligne propre.\nLa boîte Hors ligne.\n", words)
        self.assertEqual([n for n, _ in found], [2])
        self.assertIn("hors ligne", found[0][1])

    def test_a_retired_word_split_over_two_lines_or_a_no_break_space(self):
        found = tplint.word_problems("Une ligne\npropre, la boîte hors\nligne.\nHors\u00a0ligne.\n",
                                     ["hors ligne"])
        self.assertEqual([n for n, _ in found], [2, 4])

    def test_a_retired_word_starts_a_word_and_may_take_an_ending(self):
        words = ["rangée", "part de 5xx"]
        self.assertEqual(tplint.word_problems("Une phrase arrangée.\n", words), [])
        self.assertEqual([n for n, _ in tplint.word_problems("Deux rangées.\n", words)], [1])
        self.assertEqual(tplint.word_problems("ObslabHighErrorRatio, sa contrepart de 5xx\n", words), [])

    def test_lint_of_a_tree(self):
        with tempfile.TemporaryDirectory() as root:
            os.mkdir(os.path.join(root, "fr"))
            for name, text in (("glossaire.md", GLOSSARY), ("01.md", PAGE),
                               ("02.md", "Chaque seuil `le` du serveur.\n")):
                with open(os.path.join(root, "fr", name), "w", encoding="utf-8") as f:
                    f.write(text)
            problems = tplint.lint(root)
            self.assertEqual(len(problems), 1)
            self.assertTrue(problems[0].endswith("02.md:1: « seuil `le` » is retired by the glossary"))

    def test_a_missing_glossary_is_a_problem(self):
        with tempfile.TemporaryDirectory() as root:
            os.mkdir(os.path.join(root, "en"))
            self.assertEqual(len(tplint.lint(root)), 1)


class TheGuide(unittest.TestCase):
    def test_the_repository_guide_is_clean(self):
        root = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "tp")
        if not os.path.isdir(root):
            self.skipTest("no docs/tp")
        self.assertEqual(tplint.lint(root), [])


if __name__ == "__main__":
    unittest.main()
