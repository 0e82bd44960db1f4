//! The options table of a docs page must say what the binary's `--help` says.
//!
//! Shared by the `docs_options` tests of obslab-server, obslab-loadgen and
//! obslab-lab, which include this file by path, so the parsing exists once.
//!
//! The table is the first one of the page whose header has the columns
//! `option`, `env` and `default` (others, such as `meaning`, are free text).
//! One option per row. The checks:
//!
//! - the long flags of `--help` (except `--help` and `--version`) and of the
//!   table are the same set;
//! - the `env` cell names, as a code span, the variable of `[env: NAME=]`,
//!   or has no code span when `--help` shows none;
//! - every `[default: X]` of `--help` appears verbatim in the `default`
//!   cell (backticks aside), and every code span of that cell (other than a
//!   `--flag`) appears in one of them: literal defaults are code spans,
//!   anything else in the cell is commentary ("random", "unset").
//!
//! HTML comments in a row are ignored.

use std::collections::BTreeMap;
use std::process::Command;

/// What `--help` or the table says about one option.
#[derive(Debug, Default)]
struct Documented {
    /// `[env: NAME=]` of `--help`; the code span of the `env` cell.
    env: Option<String>,
    /// `--help`: every `[default: X]`; the table: the whole cell.
    defaults: Vec<String>,
}

/// Runs `binary --help` and panics, naming each flag and what differs, unless
/// the options table of the page at `page` agrees with it.
pub fn assert_options_table_matches_help(binary: &str, page: &str) {
    let help = help_text(binary);
    let from_help = parse_help(&help);
    assert!(
        !from_help.is_empty(),
        "no --flags found in `{binary} --help`:\n{help}"
    );
    let text = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("cannot read {page}: {e}"));
    let from_table = parse_table(&text).unwrap_or_else(|e| panic!("{page}: {e}"));
    let problems = compare(&from_help, &from_table);
    assert!(
        problems.is_empty(),
        "the options table of {page} disagrees with `{binary} --help`:\n  {}",
        problems.join("\n  ")
    );
}

/// `--help` as a user sees it with no option set in the environment (a set
/// variable would show as `[env: NAME=value]`).
fn help_text(binary: &str) -> String {
    let mut command = Command::new(binary);
    command.arg("--help");
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("OBSLAB_") || name.starts_with("LOADGEN_") {
            command.env_remove(&*name);
        }
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {binary} --help: {e}"));
    assert!(out.status.success(), "{binary} --help failed: {out:?}");
    String::from_utf8(out.stdout).expect("--help is UTF-8")
}

/// Long flags of a clap help text, with their `[env: ...]` and
/// `[default: ...]` annotations. A flag's block runs from its line to the
/// next flag or section header; clap may wrap an annotation over two lines.
fn parse_help(help: &str) -> BTreeMap<String, Documented> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        // Flags sit at most 6 columns in, descriptions further: a wrapped
        // description line may well start with "--stages".
        let indent = line.len() - trimmed.len();
        if let Some(flag) = flag_of_help_line(trimmed).filter(|_| indent <= 6) {
            blocks.push((flag, trimmed.to_string()));
        } else if !line.is_empty() && trimmed.len() == line.len() {
            // A section header ("Commands:"): the last block ends.
            blocks.push((String::new(), String::new()));
        } else if let Some((_, text)) = blocks.last_mut() {
            text.push(' ');
            text.push_str(trimmed);
        }
    }
    blocks
        .into_iter()
        .filter(|(flag, _)| !flag.is_empty() && flag != "--help" && flag != "--version")
        .map(|(flag, text)| {
            let text = collapse_whitespace(&text);
            let env = annotations(&text, "[env: ")
                .first()
                .map(|e| e.split('=').next().unwrap_or("").trim().to_string());
            let option = Documented {
                env,
                defaults: annotations(&text, "[default: "),
            };
            (flag, option)
        })
        .collect()
}

/// `--flag` of a line such as `  -h, --help` or `      --rate <REQ_PER_S>`;
/// not of `- text: ...` (a possible value) nor of prose.
fn flag_of_help_line(trimmed: &str) -> Option<String> {
    let rest = if trimmed.starts_with("--") {
        trimmed
    } else {
        let mut chars = trimmed.chars();
        match (chars.next(), chars.next(), chars.as_str()) {
            (Some('-'), Some(c), rest) if c.is_ascii_alphanumeric() => rest.strip_prefix(", ")?,
            _ => return None,
        }
    };
    let flag = rest.split([' ', '=', '<', '[']).next()?;
    (flag.len() > 2 && flag.starts_with("--")).then(|| flag.to_string())
}

/// The contents of every `[open ...]` bracket, nested brackets included.
fn annotations(text: &str, open: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let inner = &rest[start + open.len()..];
        let mut depth = 1;
        let end = inner.char_indices().find_map(|(i, c)| {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        });
        let Some(end) = end else { break };
        found.push(inner[..end].trim().to_string());
        rest = &inner[end..];
    }
    found
}

/// The options table of a markdown page, by flag.
fn parse_table(page: &str) -> Result<BTreeMap<String, Documented>, String> {
    let page = strip_html_comments(page);
    let mut lines = page.lines().map(str::trim);
    let header = lines
        .by_ref()
        .find_map(|line| {
            let cells = cells(line)?;
            let column = |name: &str| cells.iter().position(|c| c.eq_ignore_ascii_case(name));
            Some((column("option")?, column("env")?, column("default")?))
        })
        .ok_or("no table with the columns `option`, `env` and `default`")?;
    let (option_col, env_col, default_col) = header;
    let mut options = BTreeMap::new();
    for line in lines {
        let Some(cells) = cells(line) else { break };
        if cells.iter().all(|c| c.chars().all(|ch| "-: ".contains(ch))) {
            continue; // |---|---|
        }
        let cell = |i: usize| cells.get(i).map_or("", String::as_str);
        let flags: Vec<String> = code_spans(cell(option_col))
            .iter()
            .filter_map(|span| flag_of_help_line(span))
            .collect();
        let [flag] = flags.as_slice() else {
            return Err(format!("a row must name one --flag: {line}"));
        };
        let env = code_spans(cell(env_col)).into_iter().next();
        let option = Documented {
            env,
            defaults: vec![cell(default_col).to_string()],
        };
        if options.insert(flag.clone(), option).is_some() {
            return Err(format!("`{flag}` has two rows"));
        }
    }
    Ok(options)
}

/// The cells of a table row, `\|` unescaped; `None` for a line that is not one.
fn cells(line: &str) -> Option<Vec<String>> {
    let inner = line.strip_prefix('|')?;
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    Some(cells.iter().map(|c| c.trim().to_string()).collect())
}

/// The texts between backticks.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(|s| s.trim().to_string())
        .collect()
}

fn strip_html_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One sentence per difference, each naming its flag.
fn compare(
    help: &BTreeMap<String, Documented>,
    table: &BTreeMap<String, Documented>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for flag in help.keys().filter(|f| !table.contains_key(*f)) {
        problems.push(format!("`{flag}` is in --help but has no row in the table"));
    }
    for flag in table.keys().filter(|f| !help.contains_key(*f)) {
        problems.push(format!(
            "`{flag}` has a row in the table but is not in --help"
        ));
    }
    for (flag, h) in help {
        let Some(t) = table.get(flag) else { continue };
        if h.env != t.env {
            problems.push(format!(
                "`{flag}`: env is {} in --help but {} in the table",
                shown(&h.env),
                shown(&t.env)
            ));
        }
        let cell = &t.defaults[0];
        let plain = collapse_whitespace(&cell.replace('`', ""));
        for default in h.defaults.iter().filter(|d| !plain.contains(d.as_str())) {
            problems.push(format!(
                "`{flag}`: --help says [default: {default}], the table's default cell is: {cell}"
            ));
        }
        for span in code_spans(cell)
            .iter()
            .filter(|s| !s.starts_with("--") && !h.defaults.iter().any(|d| d.contains(s.as_str())))
        {
            problems.push(format!(
                "`{flag}`: the table gives the default `{span}`, --help says {}",
                if h.defaults.is_empty() {
                    "none".to_string()
                } else {
                    format!("[default: {}]", h.defaults.join("], [default: "))
                }
            ));
        }
    }
    problems
}

fn shown(env: &Option<String>) -> String {
    env.as_ref()
        .map_or_else(|| "none".to_string(), |name| format!("`{name}`"))
}

#[test]
fn help_annotations_survive_wrapping_and_hidden_values() {
    let help = "Options:
      --listen <LISTEN>
          Address to listen on.

          [env: OBSLAB_LISTEN=]
          [default: 0.0.0.0:5000]

      --admin-token <ADMIN_TOKEN>
          Bearer token.

          [env: OBSLAB_ADMIN_TOKEN]

      --mix <MIX>
          Weighted requests [default: every route: \"GET /=60,GET
          /health=20\"] [env: LOADGEN_MIX=]

      --log-format <LOG_FORMAT>
          Possible values:
          - text: Human-readable lines
          - json: One JSON object per line

          [env: OBSLAB_LOG_FORMAT=]
          [default: text]

  -h, --help
          Print help
";
    let options = parse_help(help);
    let keys: Vec<&str> = options.keys().map(String::as_str).collect();
    assert_eq!(keys, ["--admin-token", "--listen", "--log-format", "--mix"]);
    assert_eq!(options["--listen"].defaults, ["0.0.0.0:5000"]);
    assert_eq!(
        options["--admin-token"].env.as_deref(),
        Some("OBSLAB_ADMIN_TOKEN")
    );
    assert_eq!(
        options["--mix"].defaults,
        ["every route: \"GET /=60,GET /health=20\""]
    );
    assert_eq!(options["--mix"].env.as_deref(), Some("LOADGEN_MIX"));
    assert_eq!(options["--log-format"].defaults, ["text"]);
}

#[test]
fn differences_name_the_flag() {
    let help = parse_help(
        "      --rate <R>\n          Rate [default: 10]; with\n          --stages [default: 0]\n          [env: LOADGEN_RATE=]\n      --seed <N>\n          Seed [env: LOADGEN_SEED=]\n",
    );
    let table = parse_table(
        "| option | env | default | meaning |\n|---|---|---|---|\n\
         | `--rate R` | `LOADGEN_RATE` | `10`; with `--stages`, `0` | rate |\n\
         | `--seed N` | `LOADGEN_SEED` | random <!-- a note --> | seed |\n",
    )
    .unwrap();
    assert!(
        compare(&help, &table).is_empty(),
        "{:?}",
        compare(&help, &table)
    );

    let table = parse_table(
        "| option | env | default |\n|---|---|---|\n\
         | `--rate` | `RATE` | `20` |\n| `--seed` | `LOADGEN_SEED` | `42` |\n| `--extra` | | |\n",
    )
    .unwrap();
    let problems = compare(&help, &table);
    assert_eq!(problems.len(), 5, "{problems:#?}");
    for (problem, flag) in problems
        .iter()
        .zip(["--extra", "--rate", "--rate", "--rate", "--seed"])
    {
        assert!(problem.starts_with(&format!("`{flag}`")), "{problem}");
    }
}
