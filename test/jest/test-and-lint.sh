#!/usr/bin/env bash
# `npm test`'s jest and eslint, side by side instead of one after the other. jest keeps the CPU
# busy ~87% of its run (the rest is waiting on the stand-ins' timers); eslint's typed lint (~30 s
# of CPU, mostly building the TypeScript program) fills much of that. eslint's output is held back
# and printed after jest's; the command fails if either fails. Arguments go to jest.
set -uo pipefail
lint_log="$(mktemp)"
npx projen eslint > "$lint_log" 2>&1 &
lint=$!
jest --ci "$@"
tests=$?
wait "$lint"
linted=$?
echo "----- eslint (ran beside jest): exit ${linted}"
cat "$lint_log"
rm -f "$lint_log"
[ "$tests" -ne 0 ] && exit "$tests"
exit "$linted"
