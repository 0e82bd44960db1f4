"""The guide's conventions: promql blocks and their flags, check: comments,
the commands of ```sh blocks, their rewriting and their --help check."""

import unittest

from harness import Failure, guide


def page(text):
    return guide.read_page(text)


class PromqlBlocks(unittest.TestCase):
    def test_empty_ok_marks_every_query_of_its_block(self):
        p = page("```promql\nup\n```\n\n```promql empty-ok\nALERTS\n\nabsent(up)\n```\n")
        self.assertEqual(p.queries, [guide.Query(2, "up", False), guide.Query(6, "ALERTS", True),
                                     guide.Query(8, "absent(up)", True)])
        self.assertEqual(p.problems, [])

    def test_an_unknown_flag_is_a_problem_at_the_fence(self):
        p = page("text\n```promql empty_ok\nALERTS\n```\n")
        self.assertEqual(p.problems, [(2, "unknown promql block flag(s) ['empty_ok']: "
                                          "known: ['empty-ok']")])
        self.assertEqual(p.queries, [guide.Query(3, "ALERTS", False)])

    def test_a_query_the_scanner_cannot_read_is_a_problem(self):
        p = page('```promql\nx{a="b}\n```\n')
        self.assertEqual([line for line, _ in p.problems], [2])


class Checks(unittest.TestCase):
    def test_a_check_comment(self):
        p = page("Le taux calme est de 8,6 %.\n"
                 "<!-- check: sum(rate(a[5m])) / sum(rate(b[5m])) ≈ 0,086 ± 0.01 -->\n")
        self.assertEqual(p.checks,
                         [guide.Check(2, "sum(rate(a[5m])) / sum(rate(b[5m]))", 0.086, 0.01)])

    def test_numbers(self):
        for text, value in [("20", 20), ("-1.5", -1.5), ("1e-3", 0.001), (".5", 0.5), ("3,", 3)]:
            with self.subTest(text=text):
                self.assertEqual(guide.parse_check(1, f"<!-- check: up ≈ {text} ± 0 -->").value, value)

    def test_malformed_checks_are_problems_never_skipped(self):
        cases = [
            ("<!-- check: up ≈ 1 -->", "one ≈, then one ±"),
            ("<!-- check: up = 1 ± 0 -->", "one ≈, then one ±"),
            ("<!-- check: up ± 1 ≈ 0 -->", "one ≈, then one ±"),
            ("<!-- check: ≈ 1 ± 0 -->", "no query"),
            ("<!-- check: up ≈ 5 % ± 1 -->", "the value '5 %' is not a number"),
            ("<!-- check: up ≈ 1 ± -1 -->", "negative tolerance"),
            ("<!-- check: up ≈ 1 ± 0", "on one line"),
            ('<!-- check: x{a="b} ≈ 1 ± 0 -->', "unterminated string"),
        ]
        for text, why in cases:
            with self.subTest(text=text):
                [(line, problem)] = page(f"# T\n{text}\n").problems
                self.assertEqual(line, 2)
                self.assertIn(why, problem)

    def test_checks_in_code_blocks_are_examples(self):
        self.assertEqual(page("```html\n<!-- check: up ≈ 4 ± 0 -->\n```\n").checks, [])


class ShellBlocks(unittest.TestCase):
    def commands(self, block):
        p = page("```sh\n" + block + "\n```\n")
        return p, [c for c in p.commands if isinstance(c, guide.Command)]

    def test_comments_continuations_and_unchecked_lines(self):
        p, cmds = self.commands(
            "# Découverte\n"
            "curl -s http://localhost:5000/metrics | grep flask_  # les compteurs\n"
            "docker compose up -d\n"
            "obslab-loadgen --target http://localhost:5000 \\\n"
            "  --rate 50 --duration 1m   # une minute\n"
            "OBSLAB_GRAFANA_USER=admin obslab doctor\n"
            "echo '# pas un commentaire' && obslab drill list\n")
        self.assertEqual([(c.line, c.program, c.text) for c in cmds], [
            (3, "curl", "curl -s http://localhost:5000/metrics | grep flask_"),
            (5, "obslab-loadgen",
             "obslab-loadgen --target http://localhost:5000    --rate 50 --duration 1m"),
            (7, "obslab", "OBSLAB_GRAFANA_USER=admin obslab doctor"),
        ])
        self.assertEqual(cmds[1].argv, ["obslab-loadgen", "--target", "http://localhost:5000",
                                        "--rate", "50", "--duration", "1m"])
        self.assertEqual(p.problems, [])

    def test_a_hash_inside_a_word_or_quotes_is_not_a_comment(self):
        _, [cmd] = self.commands("curl -s 'http://localhost:9090/graph#x' -H \"X: #1\" # fin")
        self.assertEqual(cmd.text, "curl -s 'http://localhost:9090/graph#x' -H \"X: #1\"")

    def test_a_here_document_stays_with_its_command(self):
        _, [cmd, after] = self.commands("amtool check-config <<'EOF'\nroute:\n  receiver: x\nEOF\n"
                                        "obslab reset")
        self.assertEqual(cmd.text, "amtool check-config <<'EOF'\nroute:\n  receiver: x\nEOF")
        self.assertEqual((after.line, after.text), (6, "obslab reset"))

    def test_a_status_printed_on_the_next_line(self):
        _, cmds = self.commands("obslab-loadgen --threshold 'p95<1ms'\necho $?\nobslab reset")
        self.assertEqual([c.status_shown for c in cmds], [True, False])

    def test_exports_are_kept_in_order(self):
        p, _ = self.commands("export OBSLAB_ADMIN_TOKEN=secret-token-0123456\nobslab reset")
        self.assertEqual(p.commands[0], guide.Export(2, ["OBSLAB_ADMIN_TOKEN=secret-token-0123456"]))

    def test_help_only_reasons(self):
        _, cmds = self.commands(
            "obslab doctor --grafana http://localhost:3000\n"
            "curl http://loadgen:9105/metrics\n"
            "docker compose run --rm -e X=1 loadgen --target http://server:5000 --rate 50\n"
            "docker-compose -p tp exec prometheus promtool check rules /etc/prometheus/rules/x.yml\n"
            "docker compose run --rm --entrypoint /usr/local/bin/obslab inbox drill list\n"
            "docker compose exec server ls\n"
            "obslab drill list\n")
        self.assertEqual([(c.program, c.argv[1:3], c.help_only) for c in cmds], [
            ("obslab", ["doctor", "--grafana"], "needs Grafana, which cannot run here"),
            ("curl", ["http://loadgen:9105/metrics"],
             "names loadgen:9105, an address inside the compose network"),
            ("obslab-loadgen", ["--target", "http://server:5000"],
             "runs in the compose lab (docker compose run loadgen)"),
            ("promtool", ["check", "rules"],
             "runs in the compose lab (docker compose exec prometheus)"),
            ("obslab", ["drill", "list"], "runs in the compose lab (docker compose run inbox)"),
            ("obslab", ["drill", "list"], None),
        ])

    def test_mistakes_of_form(self):
        p, cmds = self.commands("$ obslab drill list\nobslab faults show 'oops")
        self.assertEqual(p.problems[0],
                         (2, "no `$` prompt in ```sh blocks: the test runs the line as is"))
        self.assertEqual(p.problems[1][0], 3)
        self.assertIn("cannot split", p.problems[1][1])
        self.assertEqual([c.argv for c in cmds], [["obslab", "drill", "list"]])

    def test_checked_programs_in_other_shell_blocks(self):
        p = page("```bash\n$ obslab reset\nls\n```\n"
                 "```console\ncurl -s x\n```\n```text\nobslab\n```\n")
        self.assertEqual([line for line, _ in p.problems], [2, 6])


class Rewriting(unittest.TestCase):
    def setUp(self):
        urls = {"server": "http://127.0.0.1:4001", "prometheus": "http://127.0.0.1:4002",
                "alertmanager": "http://127.0.0.1:4003", "inbox": "http://127.0.0.1:4004"}
        self.r = guide.Rewriter(urls, max_seconds=3)

    def test_published_urls_point_at_the_test_lab(self):
        self.assertEqual(
            self.r.urls("curl localhost:5000/ http://127.0.0.1:9090/api localhost:9093 "
                        "http://localhost:9095/ localhost:3000 localhost:50001 server:5000"),
            "curl 127.0.0.1:4001/ http://127.0.0.1:4002/api 127.0.0.1:4003 "
            "http://127.0.0.1:4004/ localhost:3000 localhost:50001 server:5000")

    def test_durations_are_capped(self):
        cases = [
            ("--duration 1m", "--duration 3s"),
            ("--duration=2m30s --rate 5", "--duration=3s --rate 5"),
            ('--duration "90s"', '--duration "3s"'),
            ("--duration 2s", "--duration 2s"),
            ("--duration 500ms", "--duration 500ms"),
            ('--stages "30s:20,1m:50,30s:0"', '--stages "750ms:20,1500ms:50,750ms:0"'),
            ("--stages=1s:5,1s:0", "--stages=1s:5,1s:0"),
            ("--duration 1m | tee x", "--duration 3s | tee x"),
        ]
        for text, want in cases:
            with self.subTest(text=text):
                self.assertEqual(self.r.durations("obslab-loadgen " + text), "obslab-loadgen " + want)

    def test_only_the_load_generator_is_shortened(self):
        [amtool, loadgen] = [c for c in page(
            "```sh\namtool silence add x --duration=1h\n"
            "obslab-loadgen --target http://localhost:5000 --duration 1h\n```\n").commands]
        self.assertEqual(self.r.command(amtool), "amtool silence add x --duration=1h")
        self.assertEqual(self.r.command(loadgen),
                         "obslab-loadgen --target http://127.0.0.1:4001 --duration 3s")

    def test_humantime(self):
        self.assertEqual(guide.seconds("1m30s"), 90)
        self.assertEqual(guide.seconds("250ms"), 0.25)
        self.assertEqual(guide.seconds("2min"), 120)
        self.assertIsNone(guide.seconds("soon"))


class HelpCheck(unittest.TestCase):
    """A fake program: its --help texts per subcommand path."""

    HELP = {
        (): "Usage: tool <COMMAND>\n  drill  Drills\n  --server <URL>\n  -h, --help",
        ("drill",): "Usage: tool drill <COMMAND>\n  start\n  --server <URL>",
        ("drill", "start"): "Usage: tool drill start <DRILL>\n  --server <URL>\n  --[no-]color\n"
                            "  -q, --quiet\n  -X, --request <method>  Method",
    }

    def run_help(self, words):
        key = tuple(words)
        if key in self.HELP:
            return 0, self.HELP[key]
        if key[:-1] == ("drill", "start"):
            # an argument after the deepest command: its help again, as
            # clap and kingpin print it
            return 0, self.HELP[key[:-1]]
        return 2, "error: unrecognized subcommand"

    def test_flags_are_looked_up_in_the_deepest_subcommand(self):
        argv = ["tool", "--server", "http://x", "drill", "start", "error-spike", "--color",
                "--no-color", "-qX", "POST"]
        self.assertEqual(guide.check_flags(argv, self.run_help), (["drill", "start"], []))

    def test_unknown_flags_are_named(self):
        argv = ["tool", "drill", "start", "x", "--colour", "-qz", "--server=http://x"]
        self.assertEqual(guide.check_flags(argv, self.run_help),
                         (["drill", "start"], ["--colour", "-z"]))

    def test_a_subcommand_flag_used_at_the_top_is_not_listed(self):
        self.assertEqual(guide.check_flags(["tool", "drill", "--quiet"], self.run_help),
                         (["drill"], ["--quiet"]))

    def test_a_program_whose_help_fails(self):
        with self.assertRaises(Failure):
            guide.check_flags(["tool", "--x"], lambda words: (127, "not found"))


if __name__ == "__main__":
    unittest.main()
