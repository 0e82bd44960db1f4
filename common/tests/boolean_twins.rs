//! Every boolean flag with an environment twin, in every binary, reads the
//! variable alike: `1`/`0`, `true`/`false`, `yes`/`no`.
//!
//! The test walks the real command definition of each binary (its library's
//! `CommandFactory`, subcommands included) and, for each flag that has a
//! twin, parses with the variable set to each spelling and checks the
//! value clap hands the program. clap reads a twin when the command is
//! built, from the process environment, which a test may not change (the
//! workspace forbids `unsafe`, which `set_var` needs): each parse runs in a
//! child, this very test binary started again with the variable set.

use std::collections::BTreeSet;
use std::process::Command as Process;

use clap::{ArgAction, ArgMatches, Command, CommandFactory as _};

/// This test's name, for the child to run it alone.
const TEST: &str = "boolean_twins::every_boolean_twin_accepts_1_0_true_false_yes_no";

/// Set in a child: `binary/subcommand path/arg id`, the parse to do.
const CHILD: &str = "OBSLAB_BOOLEAN_TWIN_CASE";

const SPELLINGS: [(&str, bool); 6] = [
    ("1", true),
    ("0", false),
    ("true", true),
    ("false", false),
    ("yes", true),
    ("no", false),
];

/// The command line of every binary, by name (`obslab-loadgen merge` is
/// parsed apart by its `main`).
fn binaries() -> Vec<(&'static str, Command)> {
    vec![
        ("obslab-server", obslab_server::config::Args::command()),
        ("obslab-loadgen", obslab_loadgen::Args::command()),
        (
            "obslab-loadgen merge",
            obslab_loadgen::merge::MergeArgs::command(),
        ),
        ("obslab", obslab_lab::cli::Cli::command()),
    ]
}

/// A boolean flag with a twin: where it is defined and its variable.
#[derive(Debug)]
struct Twin {
    binary: &'static str,
    /// The subcommands leading to the command that defines it.
    path: Vec<String>,
    id: String,
    var: String,
}

/// Every arg of `cmd` and its subcommands that has a twin, with whether it
/// is a boolean flag.
fn walk(binary: &'static str, cmd: &Command, path: &[String], out: &mut Vec<(Twin, bool)>) {
    for arg in cmd.get_arguments() {
        let Some(var) = arg.get_env() else { continue };
        let flag = match arg.get_action() {
            ArgAction::SetTrue => true,
            ArgAction::SetFalse => panic!(
                "{binary} {}: a SetFalse flag with a twin; say what its twin means",
                arg.get_id()
            ),
            _ => false,
        };
        let twin = Twin {
            binary,
            path: path.to_vec(),
            id: arg.get_id().to_string(),
            var: var.to_string_lossy().into_owned(),
        };
        out.push((twin, flag));
    }
    for sub in cmd.get_subcommands() {
        let mut path = path.to_vec();
        path.push(sub.get_name().to_owned());
        walk(binary, sub, &path, out);
    }
}

/// `cmd` with nothing required, so that the flag alone parses.
fn relaxed(cmd: Command) -> Command {
    cmd.subcommand_required(false)
        .arg_required_else_help(false)
        .mut_args(|arg| arg.required(false))
        .mut_subcommands(relaxed)
}

/// In the child: parse the case named by [`CHILD`] and print the value.
fn child(case: &str) {
    let mut parts = case.split('/');
    let (binary, path, id) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let (_, cmd) = binaries()
        .into_iter()
        .find(|(name, _)| *name == binary)
        .expect("a known binary");
    let path: Vec<&str> = path.split_whitespace().collect();
    let words = std::iter::once(binary).chain(path.iter().copied());
    match relaxed(cmd).try_get_matches_from(words) {
        Ok(matches) => {
            let matches = path.iter().fold(&matches, |m: &ArgMatches, sub| {
                m.subcommand_matches(sub).expect("the subcommand parsed")
            });
            // On a line of its own: libtest has begun `test NAME ...`.
            println!("\nTWIN-VALUE={:?}", matches.get_one::<bool>(id));
        }
        Err(e) => println!("\nTWIN-ERROR={}", e.to_string().replace('\n', " ")),
    }
}

#[test]
fn every_boolean_twin_accepts_1_0_true_false_yes_no() {
    if let Ok(case) = std::env::var(CHILD) {
        return child(&case);
    }
    let mut all = Vec::new();
    for (binary, cmd) in binaries() {
        walk(binary, &cmd, &[], &mut all);
    }
    let vars: Vec<String> = all.iter().map(|(twin, _)| twin.var.clone()).collect();
    let flags: Vec<&Twin> = all
        .iter()
        .filter(|(_, flag)| *flag)
        .map(|(twin, _)| twin)
        .collect();
    // The walk sees the flags we know of (a walk that finds none proves
    // nothing).
    let names: BTreeSet<&str> = flags.iter().map(|t| t.var.as_str()).collect();
    for known in [
        "OBSLAB_ACCESS_LOG",
        "LOADGEN_HTTP2",
        "LOADGEN_HTTP1",
        "LOADGEN_INSECURE",
    ] {
        assert!(names.contains(known), "{known} not found in {names:?}");
    }
    let exe = std::env::current_exe().unwrap();
    let mut failures = Vec::new();
    for twin in &flags {
        for (spelling, expected) in SPELLINGS {
            let case = format!("{}/{}/{}", twin.binary, twin.path.join(" "), twin.id);
            let mut process = Process::new(&exe);
            process.args(["--exact", TEST, "--nocapture", "--test-threads", "1"]);
            // Only this twin is set: no other variable of the lab may
            // change the parse.
            for var in &vars {
                process.env_remove(var);
            }
            process.env(CHILD, &case).env(&twin.var, spelling);
            let out = process.output().expect("the test binary runs again");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let answer = stdout
                .lines()
                .find(|l| l.starts_with("TWIN-"))
                .unwrap_or("no answer");
            if answer != format!("TWIN-VALUE=Some({expected})") {
                failures.push(format!(
                    "{} {}={spelling} (--{}): expected {expected}, got {answer}",
                    twin.binary, twin.var, twin.id
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
