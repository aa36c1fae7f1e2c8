#!/bin/sh
# Runs test programs that print TAP (cmocka suites, fuzz replays, e2e scripts)
# and ends with one line: "N passed, N failed, N skipped".
# A program that exits non-zero, or prints fewer results than its plan, fails.
# TWIN_VALGRIND=1 runs each program under valgrind, which must report nothing.
pass=0 fail=0 skip=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
for t in "$@"; do
	name=$(basename "$t")
	if [ -n "$TWIN_VALGRIND" ]; then
		set -- valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect,possible \
			--show-leak-kinds=definite,indirect,possible "$t"
	else
		set -- "$t"
	fi
	start=$(date +%s)
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$log/out" 2>"$log/err"
	rc=$?
	secs=$(($(date +%s) - start))
	counts=$(awk '
		/^[0-9]+\.\.[0-9]+/ { split($1, range, "\\.\\."); plan += range[2] }
		/^(not )?ok/ {
			n++
			if ($0 ~ /# *SKIP/) { s++; print "    SKIP " $0 > "/dev/stderr" }
			else if ($0 ~ /^not ok/) { f++; print "    FAIL " $0 > "/dev/stderr" }
			else ok++
		}
		END { printf "%d %d %d %d\n", ok, f, s, plan - n }' "$log/out" 2>"$log/lines")
	set -- $counts
	p=$1 f=$2 s=$3 missing=$4
	[ "$missing" -gt 0 ] && f=$((f + missing))
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	status=ok
	[ "$f" -gt 0 ] && status=FAIL
	printf '%-28s %3d passed, %d failed, %d skipped %5ds%s\n' "$name" "$p" "$f" "$s" "$secs" \
		"$([ $rc -ne 0 ] && echo " (exit $rc)")"
	cat "$log/lines"
	if [ "$status" = FAIL ]; then
		sed 's/^/    | /' "$log/out" | grep -v '| ok ' | tail -n 20
		sed 's/^/    ! /' "$log/err" | tail -n 20
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
