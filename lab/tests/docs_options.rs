//! docs/obslab.md's options table says what `obslab --help` says: the same
//! flags, each with its environment twin and default.

#[path = "../../tests/docs_options_check.rs"]
mod check;

#[test]
fn the_options_table_of_docs_obslab_md_matches_help() {
    check::assert_options_table_matches_help(
        env!("CARGO_BIN_EXE_obslab"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/obslab.md"),
    );
}
