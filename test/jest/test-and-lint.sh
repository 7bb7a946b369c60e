#!/usr/bin/env bash
# `npm test`'s jest, eslint and type check, side by side instead of one after the other. jest keeps
# the CPU busy most of its run (the rest is waiting on the stand-ins' timers); eslint's typed lint
# and `tsc --noEmit` over tsconfig.dev.json (src, test, offline-world, examples, bench: jest's
# esbuild transform only transpiles, so this is where the tests' own types are judged) fill much of
# that. Their output is held back and printed after jest's; the command fails if any fails.
# Arguments go to jest.
set -uo pipefail
checks_log="$(mktemp)"
(
  npx projen eslint; linted=$?
  echo "----- tsc --noEmit -p tsconfig.dev.json"
  tsc --noEmit -p tsconfig.dev.json; typed=$?
  echo "----- eslint: exit ${linted}, tsc: exit ${typed}"
  [ "$linted" -eq 0 ] && [ "$typed" -eq 0 ]
) > "$checks_log" 2>&1 &
checks=$!
jest --ci "$@"
tests=$?
wait "$checks"
checked=$?
echo "----- eslint and tsc (ran beside jest):"
cat "$checks_log"
rm -f "$checks_log"
[ "$tests" -ne 0 ] && exit "$tests"
exit "$checked"
