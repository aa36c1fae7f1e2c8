#!/bin/sh
# Runs test programs that print TAP (cmocka suites, fuzz replays, e2e scripts)
# and ends with one line: "N passed, N failed, N skipped".
# A program that exits non-zero, or prints fewer results than its plan, fails.
# TWIN_JOBS programs run at once (default: the number of cores); the results
# are printed in the order given, each as soon as it and those before it end.
# TWIN_VALGRIND=1 runs each program under valgrind, which must report nothing.

# run.sh --one DIR PROGRAM: runs one program into DIR/out, err, secs, then rc.
if [ "$1" = --one ]; then
	dir=$2 t=$3
	if [ -n "$TWIN_VALGRIND" ]; then
		set -- valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect,possible \
			--show-leak-kinds=definite,indirect,possible "$t"
	else
		set -- "$t"
	fi
	start=$(date +%s)
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$dir/out" 2>"$dir/err" </dev/null
	rc=$?
	echo $(($(date +%s) - start)) >"$dir/secs"
	echo $rc >"$dir/rc.tmp" && mv "$dir/rc.tmp" "$dir/rc"
	exit 0
fi

pass=0 fail=0 skip=0
log=$(mktemp -d)
trap 'kill $pool 2>/dev/null; rm -rf "$log"' EXIT
jobs=${TWIN_JOBS:-$(nproc 2>/dev/null || echo 1)}

i=0
for t in "$@"; do
	i=$((i + 1))
	mkdir "$log/$i"
	printf '%s\0%s\0' "$log/$i" "$t"
done | xargs -0 -n 2 -P "$jobs" "$0" --one &
pool=$!

i=0
for t in "$@"; do
	i=$((i + 1))
	d=$log/$i
	while [ ! -f "$d/rc" ] && kill -0 $pool 2>/dev/null; do
		sleep 1
	done
	if [ ! -f "$d/rc" ]; then  # the pool ended without running it
		echo 127 >"$d/rc" && echo 0 >"$d/secs" && : >>"$d/out" && : >>"$d/err"
	fi
	name=$(basename "$t")
	rc=$(cat "$d/rc")
	secs=$(cat "$d/secs")
	counts=$(awk '
		/^[0-9]+\.\.[0-9]+/ { split($1, range, "\\.\\."); plan += range[2] }
		/^(not )?ok/ {
			n++
			if ($0 ~ /# *SKIP/) { s++; print "    SKIP " $0 > "/dev/stderr" }
			else if ($0 ~ /^not ok/) { f++; print "    FAIL " $0 > "/dev/stderr" }
			else ok++
		}
		END { printf "%d %d %d %d\n", ok, f, s, plan - n }' "$d/out" 2>"$d/lines")
	set -- $counts
	p=$1 f=$2 s=$3 missing=$4
	[ "$missing" -gt 0 ] && f=$((f + missing))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	status=ok
	[ "$f" -gt 0 ] && status=FAIL
	printf '%-28s %3d passed, %d failed, %d skipped %5ds%s\n' "$name" "$p" "$f" "$s" "$secs" \
		"$([ "$rc" -ne 0 ] && echo " (exit $rc)")"
	cat "$d/lines"
	if [ "$status" = FAIL ]; then
		sed 's/^/    | /' "$d/out" | grep -v '| ok ' | tail -n 20
		sed 's/^/    ! /' "$d/err" | tail -n 20
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
wait $pool 2>/dev/null
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
