//! Boolean flags with an environment twin (`--http2` / `LOADGEN_HTTP2`,
//! `--access-log` / `OBSLAB_ACCESS_LOG`...): the variable's value.
//!
//! Every such flag of every binary takes [`Boolean`] as its value parser, so
//! they all read a variable alike: clap's boolish words (`1`, `true`, `yes`,
//! `on`, `y`, `t` turn it on; `0`, `false`, `no`, `off`, `n`, `f` leave it
//! off; any case), and an empty value, as a blank line of an env file
//! writes it, leaves it off too. Anything else is a usage error naming the
//! flag (exit 2), not a silent `true`. On the command line the flag itself
//! takes no value.

use std::ffi::OsStr;

use clap::builder::{BoolishValueParser, TypedValueParser};
use clap::error::{ContextKind, ContextValue};

/// The value parser of a boolean flag with an environment twin:
/// `#[arg(long, env = "X", value_parser = obslab_common::flag::Boolean)]`
/// on a `bool` field.
#[derive(Clone, Copy, Debug, Default)]
pub struct Boolean;

impl TypedValueParser for Boolean {
    type Value = bool;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<bool, clap::Error> {
        if value.is_empty() {
            return Ok(false);
        }
        BoolishValueParser::new()
            .parse_ref(cmd, arg, value)
            .map_err(|mut err| {
                let tip = "1, true, yes or on turn it on; 0, false, no, off or empty leave it off";
                err.insert(
                    ContextKind::Suggested,
                    ContextValue::StyledStrs(vec![tip.into()]),
                );
                err
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value` through [`Boolean`] as clap runs it (an option here: only
    /// the process environment could give a flag's twin a value).
    fn parse(value: &str) -> Result<bool, String> {
        clap::Command::new("t")
            .arg(clap::Arg::new("x").long("x").value_parser(Boolean))
            .try_get_matches_from(["t", "--x", value])
            .map(|m| *m.get_one::<bool>("x").unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn boolish_words_and_empty_parse_anything_else_is_refused_with_the_words() {
        for on in ["1", "true", "yes", "on", "TRUE", "Yes"] {
            assert_eq!(parse(on), Ok(true), "{on}");
        }
        for off in ["0", "false", "no", "off", "", "False"] {
            assert_eq!(parse(off), Ok(false), "{off:?}");
        }
        let refused = parse("ture").unwrap_err();
        assert!(refused.contains("'ture' for '--x"), "{refused}");
        assert!(refused.contains("1, true, yes or on"), "{refused}");
    }
}
