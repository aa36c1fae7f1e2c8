#!/bin/sh
# Black-box cases as data: each tests/e2e/cases/*.case holds
#   # one line saying what the case checks
#   needs: REL        shared data it needs (SKIP when absent), optional
#   setup: CMD        shell commands run first, optional, repeatable
#   run: CMD          the command under test
#   exit: N           its expected exit code
#   stderr: REGEX     an extended regex its stderr must match
#   absent: PATH      a path that must not exist afterwards, repeatable
# Commands run in a fresh folder $T with the programs on PATH and the shared
# data in $DATA. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
: "${TWIN_SHARED_DATA:=$here/../../../shared/data}"
DATA=$TWIN_SHARED_DATA
export PATH DATA

set -- "$here"/cases/*.case
[ -e "$1" ] || set --
echo "1..$#"
for c in "$@"; do
	n=$((n + 1))
	name=$(basename "$c" .case)
	field() { sed -n "s/^$1: *//p" "$c"; }
	need=$(field needs)
	if [ -n "$need" ] && [ ! -e "$DATA/$need" ]; then
		echo "ok $n - $name # SKIP shared data '$DATA/$need' is absent"
		continue
	fi
	T=$(mktemp -d)
	export T
	why=
	if ! (cd "$T" && field setup | sh -e) >"$T.setup" 2>&1; then
		why="setup failed: $(tail -n 3 "$T.setup")"
	else
		(cd "$T" && eval "$(field run)") >"$T.out" 2>"$T.err" </dev/null
		rc=$?
		want=$(field exit)
		pat=$(field stderr)
		if [ "$rc" != "$want" ]; then
			why="exit $rc, want $want"
		elif [ -n "$pat" ] && ! grep -Eq -- "$pat" "$T.err"; then
			why="stderr does not match /$pat/"
		fi
		for p in $(field absent); do
			[ -e "$T/$p" ] && why="$why${why:+; }'$p' was left behind"
		done
	fi
	if [ -z "$why" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name: $why"
		sed 's/^/#   stderr: /' "$T.err" 2>/dev/null | head -n 5
	fi
	rm -rf "$T" "$T.out" "$T.err" "$T.setup"
done
