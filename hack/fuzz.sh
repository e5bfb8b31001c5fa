#!/usr/bin/env bash
# Runs every fuzz target of the module, one after the other, each for
# FUZZTIME (default 10s; make test uses a few seconds, make fuzz minutes).
# The seed corpora under each package's testdata/fuzz also run as plain tests
# in every go test. A failing input is written to testdata/fuzz/FuzzName/ by
# go test: commit it with the fix so that it stays a regression test.
#
#   hack/fuzz.sh [regexp of target names]      FUZZTIME=2m hack/fuzz.sh Reader
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
filter=${1:-.}

n=0
failed=()
while IFS=: read -r file name; do
	[[ $name =~ $filter ]] || continue
	pkg=./$(dirname "$file")
	echo "fuzz: $pkg $name ($fuzztime)"
	log=${TMPDIR:-/tmp}/fuzz-$name.log
	run() { go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 10s "$pkg" >"$log" 2>&1; }
	if ! run; then
		# The fuzzing engine sometimes ends a run on a busy machine with
		# "context deadline exceeded" and no input found: the time ran out,
		# not a test. Such a run is tried once more; a failing input never is.
		if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "fuzz: $name stopped at its deadline without a finding; again"
			run && { n=$((n + 1)); continue; }
		fi
		cat "$log"
		failed+=("$pkg $name")
	fi
	n=$((n + 1))
done < <(find . -path ./hack/.cache -prune -o -path ./.git -prune -o -name '*_test.go' -print | sed 's|^./||' | xargs grep -Ho '^func Fuzz[A-Za-z0-9_]*' | sed 's/func //' | sort)

if [ $n = 0 ]; then
	echo "fuzz: no target matches $filter" >&2
	exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz: failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "fuzz: $n targets, no failure"
