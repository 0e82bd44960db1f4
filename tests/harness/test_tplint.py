import contextlib
import io
import os
import tempfile
import unittest

from harness import tplint

NB = "\u00a0"

PAGE = """# Séance 9

**Durée**\u00a0: 1 h 30, dont 10 min de mise en route.

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
""".replace("« ", "«\u00a0").replace(" »", "\u00a0»")


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
        page = PAGE.replace("**Durée**\u00a0: 1 h 30, dont 10 min de mise en route.",
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

    def test_code_comments_and_link_targets_are_not_prose(self):
        words = ["error rate", "5xx share", "seuil `le`"]
        page = ("The `flask_error_rate` gauge and `sum(rate(x))`, not `the error rate`.\n"
                "```promql\n# Error rate\nflask_error_rate\n```\n"
                "<!-- check: the 5xx share ≈ 0.05 ± 0.01 -->\n"
                "[a link](error%20rate.md) <https://example.org/5xx share>\n"
                "Chaque seuil `le`, then the error\nrate.\n")
        found = tplint.word_problems(page, words)
        self.assertEqual([(n, m.split(" »")[0]) for n, m in found],
                         [(8, "« error rate"), (8, "« seuil `le`")])

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


class Typography(unittest.TestCase):
    def fix(self, text):
        fixed, problems = tplint.typography_fix(text)
        self.assertEqual(problems, [])
        return fixed

    def test_the_spaces_before_punctuation_percent_and_inside_guillemets(self):
        self.assertEqual(self.fix("Pourquoi ? Voici : 5 % ; «\u202fmot » et «mot»!\n"),
                         f"Pourquoi{NB}? Voici{NB}: 5{NB}% ; «{NB}mot{NB}» et «{NB}mot{NB}»!\n"
                         .replace(" ;", NB + ";"))
        self.assertEqual(self.fix("**Durée** : 2 h, 20% et *vraiment ?*\n"),
                         f"**Durée**{NB}: 2 h, 20{NB}% et *vraiment{NB}?*\n")

    def test_no_space_at_all_is_english_and_stays(self):
        text = "Le panneau *Error ratio: since start vs last 5 minutes*, l'heure 10:30.\n"
        self.assertEqual(self.fix(text), text)

    def test_code_comments_links_and_autolinks_are_left_alone(self):
        text = ("Voir `a : b ?` et <!-- check: x ≈ 5 % -->, [lien](a%20b.md?x=1 :), "
                "<http://localhost:9090/graph?g0 : 1>.\n"
                "```sh\necho « a » : 5 %\n```\n"
                "Un `code\nsur deux lignes ?` puis fin.\n")
        self.assertEqual(self.fix(text), text)
        self.assertEqual(self.fix("[le lien ?](a.md) `x` :\n"), f"[le lien{NB}?](a.md) `x`{NB}:\n")

    def test_the_fix_is_idempotent_and_changes_only_spaces(self):
        text = "Un : deux ; trois ! « quatre » 5 %\n" * 3
        once = self.fix(text)
        self.assertEqual(self.fix(once), once)
        self.assertEqual(once.replace(NB, " "), text)

    def test_a_line_break_before_a_colon_or_after_a_guillemet_is_reported(self):
        text = "Une phrase\n: suite, et «\nmot ».\n```\n: code\n```\n"
        fixed, problems = tplint.typography_fix(text)
        self.assertEqual([n for n, _ in problems], [2])
        self.assertIn("starts with ':'", problems[0][1])
        self.assertEqual([n for n, _ in tplint.typography("a «\nb " + NB + "»\n")], [1])

    def test_typography_names_the_lines_that_break_the_rules(self):
        found = tplint.typography(f"Juste{NB}?\nFaux ?\n```\nlibre ?\n```\nFaux 5 %\n")
        self.assertEqual([n for n, _ in found], [2, 6])
        self.assertIn("Faux⍽?", found[0][1])

    def test_tptypo_writes_the_fix(self):
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, "page.md")
            with open(path, "w", encoding="utf-8") as f:
                f.write("Quoi ? `a ?`\n")
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                self.assertEqual(tplint.typeset_files([path]), 0)
                self.assertEqual(tplint.typeset_files([path, os.path.join(root, "missing.md")]), 2)
            with open(path, encoding="utf-8") as f:
                self.assertEqual(f.read(), f"Quoi{NB}? `a ?`\n")
            self.assertEqual(out.getvalue(), f"{path}: 1 line(s) fixed\n")
            self.assertIn("missing.md: No such file", err.getvalue())

    def test_lint_checks_the_french_pages_only(self):
        with tempfile.TemporaryDirectory() as root:
            for lang, glossary in (("fr", GLOSSARY), ("en", GLOSSARY.replace("«", '"').replace("»", '"'))):
                os.mkdir(os.path.join(root, lang))
                with open(os.path.join(root, lang, tplint.GLOSSARIES[lang]), "w", encoding="utf-8") as f:
                    f.write(glossary)
                with open(os.path.join(root, lang, "01.md"), "w", encoding="utf-8") as f:
                    f.write("Why ? Because.\n")
            problems = tplint.lint(root)
            self.assertEqual(len(problems), 1, problems)
            self.assertIn(os.path.join("fr", "01.md") + ":1: a no-break space is missing", problems[0])


class TheGuide(unittest.TestCase):
    def test_the_repository_guide_is_clean(self):
        root = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "tp")
        if not os.path.isdir(root):
            self.skipTest("no docs/tp")
        self.assertEqual(tplint.lint(root), [])


if __name__ == "__main__":
    unittest.main()
