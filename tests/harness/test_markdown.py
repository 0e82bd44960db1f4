"""Markdown as the checks read it, and the link check on a folder of pages."""

import tempfile
import unittest
from pathlib import Path

from harness import links, markdown


class FencedBlocks(unittest.TestCase):
    def test_info_string_language_and_line_numbers(self):
        text = "intro\n```promql empty-ok\nALERTS\n```\n~~~ sh\ncurl x\n~~~\n"
        blocks = markdown.fenced_blocks(text)
        self.assertEqual([(b.info, b.language, b.first_line, b.lines, b.fence_line)
                          for b in blocks], [("promql empty-ok", "promql", 3, ["ALERTS"], 2),
                          ("sh", "sh", 6, ["curl x"], 5)])

    def test_blocks_in_list_items_lose_their_indentation(self):
        text = "1. Question\n\n   ```promql\n   rate(x[5m])\n     / 2\n   ```\n"
        [block] = markdown.fenced_blocks(text)
        self.assertEqual(block.lines, ["rate(x[5m])", "  / 2"])

    def test_a_longer_fence_holds_a_shorter_one(self):
        text = "````md\n```promql\nup\n```\n````\n"
        [block] = markdown.fenced_blocks(text)
        self.assertEqual(block.language, "md")
        self.assertEqual(block.lines, ["```promql", "up", "```"])

    def test_an_unclosed_block_runs_to_the_end(self):
        [block] = markdown.fenced_blocks("```sh\nobslab reset\n")
        self.assertEqual(block.lines, ["obslab reset", ""])

    def test_prose_lines_leave_code_out(self):
        text = "a\n```\n<!-- check: x -->\n```\nb"
        self.assertEqual(markdown.prose_lines(text), [(1, "a"), (5, "b")])


class Anchors(unittest.TestCase):
    # (heading source, GitHub's anchor)
    SLUGS = [
        ("Options", "options"),
        ("The original lab's queries", "the-original-labs-queries"),
        ("Alert delivery (Alertmanager and the inbox)",
         "alert-delivery-alertmanager-and-the-inbox"),
        ("`obslab doctor`: what it checks", "obslab-doctor-what-it-checks"),
        ("Séance 2 : compteurs, jauges", "séance-2--compteurs-jauges"),
        ("obslab — server", "obslab--server"),
        ("flask_error_rate and _emphasis_", "flask_error_rate-and-emphasis"),
        ("[The lab](lab.md) and **bold**", "the-lab-and-bold"),
        ("Pour aller plus loin ?", "pour-aller-plus-loin-"),
    ]

    def test_slugs_as_github_makes_them(self):
        for heading, want in self.SLUGS:
            with self.subTest(heading=heading):
                self.assertEqual(markdown.slug(heading), want)

    def test_repeated_headings_are_numbered_and_html_ids_count(self):
        text = ("# Title\n## Questions\ntext\n## Questions\n### Questions\n"
                'Setext\n------\n<a id="corrige-q3"></a>\n```sh\n# not a heading\n```\n')
        self.assertEqual(markdown.anchors(text), {"title", "questions", "questions-1",
                                                  "questions-2", "setext", "corrige-q3"})

    def test_a_list_before_dashes_is_not_a_setext_heading(self):
        self.assertEqual(markdown.headings("- item\n---\n"), [])


class Links(unittest.TestCase):
    def test_inline_reference_and_html_links_outside_code(self):
        text = ('See [the lab](lab.md#settings) and ![a chart](img/p95.png "p95").\n'
                "A link [over two\nlines](server.md) and `[not](code.md)`.\n"
                "```\n[not](fenced.md)\n```\n"
                '[ref]: ../README.md\n<a href="drills.md#answer-key">x</a>\n'
                "<!-- [hidden](comment.md) -->\n[url](<with space.md>)\n")
        found = [(link.line, link.target, link.kind) for link in markdown.links(text)]
        self.assertEqual(found, [
            (1, "img/p95.png", "inline"), (1, "lab.md#settings", "inline"),
            (3, "server.md", "inline"), (7, "../README.md", "definition"),
            (8, "drills.md#answer-key", "html"), (10, "with space.md", "inline")])

    def test_promql_in_prose_is_not_a_link(self):
        self.assertEqual(markdown.links("rate(x[5m]) and [5m](not a link"), [])

    def test_undefined_full_references(self):
        text = "[a][one] [b][Two] [three][]\n[one]: x.md\n[two]:  y.md\n"
        self.assertEqual(markdown.undefined_references(text), [(1, "three")])


class LinkCheck(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        (self.root / "docs/tp/fr").mkdir(parents=True)
        (self.root / "scenarios").mkdir()
        (self.root / "scenarios/error-spike.yml").write_text("name: error-spike\n")
        (self.root / "README.md").write_text("# obslab\n[TP](docs/tp/fr/index.md)\n")
        (self.root / "docs/lab.md").write_text("# The lab\n## Settings\n")

    def tearDown(self):
        self.tmp.cleanup()

    def page(self, text):
        (self.root / "docs/tp/fr/index.md").write_text(text)
        problems, _, _ = links.check(self.root, ["README.md", "docs"])
        return [(str(p.path), p.line, p.target, p.reason) for p in problems]

    def test_good_links_pass(self):
        self.assertEqual(self.page(
            "# Le TP\n## Séance 1 : découverte\n"
            "[réglages](../../lab.md#settings) [plus bas](#séance-1--découverte) "
            "[drill](../../../scenarios/error-spike.yml#L3) [dossier](../../../scenarios/) "
            "[racine](/README.md) [site](https://prometheus.io/docs/) [mail](mailto:a@b.c) "
            "[lab](../../lab.md?plain=1) [encodé](../../lab.md#settings)\n"), [])

    def test_each_broken_link_is_named_with_its_line(self):
        self.assertEqual(self.page(
            "# Le TP\n[a](../lab.md)\n[b](../../lab.md#reglages)\n[c](#nulle-part)\n"
            "[d](../../../../outside.md)\n[e][nope]\n"), [
            ("docs/tp/fr/index.md", 2, "../lab.md", "no such file: docs/tp/lab.md"),
            ("docs/tp/fr/index.md", 3, "../../lab.md#reglages",
             "no heading or id #reglages in docs/lab.md"),
            ("docs/tp/fr/index.md", 4, "#nulle-part", "no heading or id #nulle-part in this page"),
            ("docs/tp/fr/index.md", 5, "../../../../outside.md", "points outside the repository"),
            ("docs/tp/fr/index.md", 6, "[nope]", "reference link without a definition"),
        ])


if __name__ == "__main__":
    unittest.main()
