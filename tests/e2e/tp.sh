#!/usr/bin/env bash
# Entry point of the end-to-end check of the classroom guide (docs/tp/) on a
# live lab: tests/e2e/tp.py says what it proves and reads.
#   tp.sh            docs/tp and the fixtures' self-test
#   tp.sh PATH...    those Markdown files or folders only
exec python3 "$(dirname "${BASH_SOURCE[0]}")/tp.py" "$@"
