#!/usr/bin/env bash
# `npm test`'s jest, type check and eslint, side by side instead of one after the other. jest keeps
# the CPU busy most of its run (the rest is waiting on the stand-ins' timers); the type check
# (`tsc --noEmit -p tsconfig.dev.json`'s verdict over src, test, offline-world, examples, bench:
# jest's esbuild transform only transpiles, so this is where the tests' own types are judged) and
# eslint's typed lint share one TypeScript program (lint-and-typecheck.ts, which also compiles the
# README snippets) and fill much of that.
# Their output is held back and printed after jest's; the command fails if any fails.
# Arguments go to jest.
set -uo pipefail
checks_log="$(mktemp)"
here="$(cd "$(dirname "$0")" && pwd)"
node -r "$here/esbuild-register.js" "$here/lint-and-typecheck.ts" > "$checks_log" 2>&1 &
checks=$!
jest --ci "$@"
tests=$?
wait "$checks"
checked=$?
echo "----- type check and eslint (ran beside jest):"
cat "$checks_log"
rm -f "$checks_log"
[ "$tests" -ne 0 ] && exit "$tests"
exit "$checked"
