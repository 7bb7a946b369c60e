#!/usr/bin/env bash
# `npm test`'s jest, type check and eslint, side by side instead of one after the other. jest keeps
# the CPU busy most of its run (the rest is waiting on the stand-ins' timers); the type check
# (`tsc --noEmit -p tsconfig.dev.json`'s verdict over src, test, offline-world, examples, bench:
# jest's esbuild transform only transpiles, so this is where the tests' own types are judged) and
# eslint's typed lint share one TypeScript program (lint-and-typecheck.ts, which also compiles the
# README snippets) and fill much of that. They run at a lower priority (nice 10) so they take what
# jest leaves idle rather than a share of what it uses. Measured on a 2-core machine with five
# workers, two pairs: jest 53.4 / 53.9 s niced against 54.6 / 59.8 s at the same priority (the
# whole command 54.7 / 54.1 s against 54.9 / 60.0 s).
# Their output is held back and printed after jest's; the command fails if any fails.
# Arguments go to jest.
set -uo pipefail
checks_log="$(mktemp)"
here="$(cd "$(dirname "$0")" && pwd)"
nice -n 10 node -r "$here/esbuild-register.js" "$here/lint-and-typecheck.ts" > "$checks_log" 2>&1 &
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
