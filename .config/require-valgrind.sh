#!/bin/sh
# nextest setup script (.config/nextest.toml): valgrind counts the instructions the load-test
# gates compare, and is the one system prerequisite. One message before any test runs.
command -v valgrind >/dev/null 2>&1 && exit 0
echo "valgrind is not installed: the load-test gates count instructions under it." >&2
echo "Install it: sudo apt-get install valgrind (Debian, Ubuntu)" >&2
exit 1
