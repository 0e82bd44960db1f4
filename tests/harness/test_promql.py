"""The PromQL scanner on inputs that fool a regex: strings, comments,
subqueries, offsets, Grafana variables; and the Markdown extraction."""

import unittest

from harness import Failure, promql


def halve(kind, text):
    return promql.format_ms(promql.duration_ms(text) // 2)


class Tokens(unittest.TestCase):
    def test_tokens_join_back_to_the_expression(self):
        expr = 'sum by (le) (rate(x_bucket{a="]", b=~"[45].."}[5m])) # note [1h]\n> 0.5'
        self.assertEqual("".join(t.text for t in promql.tokens(expr)), expr)

    def test_strings_are_single_tokens_whatever_they_hold(self):
        kinds = [(t.kind, t.text) for t in promql.tokens(r'x{a="q\"[5m]\"", b=`\[1h]`}')]
        self.assertIn(("string", r'"q\"[5m]\""'), kinds)
        self.assertIn(("string", r"`\[1h]`"), kinds)  # no escapes in raw strings
        self.assertNotIn("range", [k for k, _ in kinds])

    def test_unterminated_string_and_unbalanced_brackets_fail(self):
        for bad in ['x{a="b}', "rate(x[5m)", "x]", "'oops"]:
            with self.subTest(bad=bad), self.assertRaises(Failure):
                promql.tokens(bad)

    def test_a_hash_in_a_string_is_not_a_comment(self):
        self.assertEqual(promql.strip_comments('x{a="#1"} # why\n+ 1'), 'x{a="#1"} \n+ 1')


class Durations(unittest.TestCase):
    # (expression, what durations() finds)
    CASES = [
        ("rate(x[5m])", [("range", "5m")]),
        ("rate(x[ 5m ])", [("range", "5m")]),
        ("max_over_time(rate(x[1m])[1h:30s])", [("range", "1m"), ("range", "1h"), ("step", "30s")]),
        ("max_over_time(x[1h:])", [("range", "1h")]),
        ("x offset 5m", [("offset", "5m")]),
        ("x offset -1h30m", [("offset", "1h30m")]),
        ("rate(x[5m] offset 1d)", [("range", "5m"), ("offset", "1d")]),
        # names that contain or are `offset`, not the keyword
        ("my_offset_seconds + offset_total", []),
        ('sum by (offset) (x{offset="5m"})', []),
        # strings and comments are never read
        ('x{path="/a[5m]", q="offset 5m"} # [1h] offset 2h', []),
        ("rate(x[$__rate_interval])", [("range", "$__rate_interval")]),
        ("increase(x[${__range}])", [("range", "${__range}")]),
    ]

    def test_durations_found(self):
        for expr, want in self.CASES:
            with self.subTest(expr=expr):
                self.assertEqual(promql.durations(expr), want)

    def test_rewrite_touches_durations_only(self):
        expr = ('max_over_time(rate(x{a="[10m]"}[10m])[1h:30s]) offset 2m  # [4m] offset 4m\n'
                "> my_offset 0")
        self.assertEqual(promql.rewrite_durations(expr, halve),
                         'max_over_time(rate(x{a="[10m]"}[5m])[30m:15s]) offset 1m'
                         "  # [4m] offset 4m\n> my_offset 0")

    def test_rewrite_of_an_empty_subquery_step_keeps_the_colon(self):
        self.assertEqual(promql.rewrite_durations("x[2h:]", halve), "x[1h:]")

    def test_duration_arithmetic(self):
        self.assertEqual(promql.duration_ms("1h30m"), 5_400_000)
        self.assertEqual(promql.duration_ms("250ms"), 250)
        self.assertEqual(promql.duration_ms("1m5s"), 65_000)
        self.assertEqual(promql.format_ms(5_400_000), "1h30m")
        self.assertEqual(promql.format_ms(1_500), "1s500ms")
        self.assertEqual(promql.format_ms(7 * 86400_000), "1w")
        for bad in ["5", "5 m", "m5", "$x", "1.5m"]:
            with self.subTest(bad=bad), self.assertRaises(Failure):
                promql.duration_ms(bad)
        with self.assertRaises(Failure):
            promql.format_ms(0)


class Thresholds(unittest.TestCase):
    CASES = [
        ("up == 0", ("up", "== 0")),
        ('sum(rate(x{code=~"5..", s!="a>b"}[5m])) / sum(rate(x[5m])) > 0.05',
         ('sum(rate(x{code=~"5..", s!="a>b"}[5m])) / sum(rate(x[5m]))', "> 0.05")),
        ("(a > 1) and b < bool 2", ("(a > 1) and b", "< bool 2")),
        ("histogram_quantile(0.95, sum by (le) (rate(h[5m])))", (
            "histogram_quantile(0.95, sum by (le) (rate(h[5m])))", "")),
        ('absent(up{job="x"} == 1)', ('absent(up{job="x"} == 1)', "")),
        ("x >= 3 # a comment with < in it", ("x", ">= 3 # a comment with < in it")),
    ]

    def test_split_at_the_last_top_level_comparison(self):
        for expr, want in self.CASES:
            with self.subTest(expr=expr):
                self.assertEqual(promql.split_threshold(expr), want)

    def test_names_skip_strings_and_comments(self):
        self.assertEqual(promql.names('ALERTS{alertname="obslab_scenario_phase"} # up'),
                         {"ALERTS", "alertname"})


class Dashboards(unittest.TestCase):
    def test_panels_in_rows_and_prometheus_annotations(self):
        ds = {"type": "prometheus", "uid": "prometheus"}
        board = {
            "uid": "b",
            "panels": [
                {"title": "A", "targets": [{"refId": "A", "expr": "up"}]},
                {"type": "row", "title": "R", "panels": [
                    {"title": "B", "targets": [{"refId": "X", "expr": "rate(x[5m])"}]}]},
            ],
            "annotations": {"list": [
                {"builtIn": 1, "name": "Annotations & Alerts", "datasource": ds, "expr": "no"},
                {"name": "faults", "datasource": ds, "target": {"expr": "changes(f[1m]) > 0"}},
                {"name": "old", "datasource": ds, "expr": "ALERTS"},
                {"name": "other", "datasource": {"type": "loki"}, "expr": "{job=\"x\"}"},
            ]},
        }
        self.assertEqual(list(promql.dashboard_queries(board, ds)), [
            ("b / A / A", "up", "panel"),
            ("b / B / X", "rate(x[5m])", "panel"),
            ("b / annotation faults", "changes(f[1m]) > 0", "annotation"),
            ("b / annotation old", "ALERTS", "annotation"),
        ])


class Markdown(unittest.TestCase):
    def test_one_query_per_line_with_trailing_comments(self):
        text = ("# Title\n\n```promql\n"
                "sum(rate(flask_requests_total[5m]))   # requests per second\n"
                "flask_error_rate                      # error rate (%)\n"
                "```\n")
        self.assertEqual(promql.markdown_queries(text), [
            (4, "sum(rate(flask_requests_total[5m]))"), (5, "flask_error_rate")])

    def test_comment_lines_and_blank_lines_separate_queries(self):
        text = ("```promql\n# Taux\nsum(rate(x[5m]))\n\n# Erreurs\n"
                "sum by (error_type) (y)\n```")
        self.assertEqual(promql.markdown_queries(text),
                         [(3, "sum(rate(x[5m]))"), (6, "sum by (error_type) (y)")])

    def test_multi_line_queries_stay_whole(self):
        text = ("~~~~ promql\n"
                "histogram_quantile(0.95,\n"
                "  sum by (le) (rate(h[5m]))\n"
                ")\n"
                "sum(rate(errors[5m]))\n"
                "/\n"
                "sum(rate(requests[5m]))\n"
                "up\n"
                "  and on (job) x\n"
                "~~~~\n")
        self.assertEqual(promql.markdown_queries(text), [
            (2, "histogram_quantile(0.95,\n  sum by (le) (rate(h[5m]))\n)"),
            (5, "sum(rate(errors[5m]))\n/\nsum(rate(requests[5m]))"),
            (8, "up\n  and on (job) x"),
        ])

    def test_other_blocks_and_strings_with_hashes_are_left(self):
        text = ('```sh\ncurl x  # not promql\n```\n'
                '```promql\nx{path="/#top"}  # anchor\n```\n'
                "```\nup\n```\n")
        self.assertEqual(promql.markdown_queries(text), [(5, 'x{path="/#top"}')])

    def test_an_unclosed_block_runs_to_the_end(self):
        self.assertEqual(promql.markdown_queries("```promql\nup\n"), [(2, "up")])


if __name__ == "__main__":
    unittest.main()
