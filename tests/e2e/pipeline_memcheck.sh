#!/bin/sh
# The whole pipeline on a small phantom, each stage under valgrind: no
# memory error and no leak (definite, indirect or possible) in twin-ingest
# (two phases and a localizer, --all-phases), twin-segment, twin-mesh (coarse,
# with an RV wall) and twin-export (every target, with fibres). This is the
# one place where the stages run under valgrind; an AddressSanitizer build
# (make SANITIZE=address,undefined) checks itself, so its stages run plain and
# any ASan, LeakSanitizer or UBSan report fails them (tests/ubsan.supp holds
# the few third-party ones). About 65 s of CPU under valgrind. TAP.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"

echo "1..4"
# The checker: the build's own sanitizers, else valgrind, else none.
if ldd "$(command -v twin-ingest)" 2>/dev/null | grep -q libasan; then
	how="AddressSanitizer"
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	# ITK's headers, compiled into twin-segment, do pointer arithmetic on a
	# null buffer: tests/ubsan.supp names them, and only them
	UBSAN_OPTIONS="halt_on_error=1:exitcode=99:print_stacktrace=1:suppressions=$here/../ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	export ASAN_OPTIONS UBSAN_OPTIONS
elif command -v valgrind >/dev/null 2>&1; then
	how="valgrind"
else
	how=
fi

# memcheck STAGE ARGS...: runs twin-STAGE under the checker; its stderr goes
# to $W/STAGE.err and valgrind's report to $W/STAGE.vg.
memcheck() {
	stage=$1
	shift
	if [ "$how" = valgrind ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect,possible \
			--show-leak-kinds=definite,indirect,possible \
			--log-file="$W/$stage.vg" "twin-$stage" "$@" >/dev/null 2>"$W/$stage.err"
	else
		"twin-$stage" "$@" >/dev/null 2>"$W/$stage.err"
	fi
}

# stage NAME WHAT ARGS...: one result per stage; after a failure the later
# stages have no input and are skipped.
failed=
stage() {
	name=$1 what=$2
	shift 2
	if [ -z "$how" ]; then
		skip "twin-$name $what" "neither valgrind nor an ASan build"
	elif [ "$failed" = phantom ]; then
		notok "twin-$name $what: twin-phantom failed to write the study" "$(tail -n 3 "$W/phantom.err")"
		failed=$name
	elif [ -n "$failed" ]; then
		skip "twin-$name $what" "twin-$failed failed"
	elif memcheck "$name" "$@"; then
		ok "twin-$name $what: clean under $how"
	else
		rc=$?
		failed=$name
		if [ "$rc" = 99 ]; then
			notok "twin-$name $what: $how reports errors or leaks" \
				"$(grep -hv '^twin-' "$W/$name.vg" "$W/$name.err" 2>/dev/null | head -n 20)"
		else
			notok "twin-$name $what: exit $rc" "$(tail -n 3 "$W/$name.err")"
		fi
	fi
}

# 200 x 200 x 150 mm at 5 mm: the whole chest in few voxels. twin-segment
# refuses less than 60 mm or 8 voxels a side, and finds no heart in a field of
# view much smaller than this; at 3 mm it and the mesher at 8 mm stay quick.
twin-phantom -q --size 40x40x30 --spacing 5,5,5 --phases 2 --localizer "$W/p" >/dev/null 2>"$W/phantom.err" ||
	failed=phantom
C=$W/case
stage ingest "(two phases, a localizer, --all-phases)" -q --all-phases "$W/p/dicom" "$C"
stage segment "(at 3 mm)" -q --set segment.spacing=3 "$C"
stage mesh "(at 8 mm, with an RV wall)" -q --size 8 --set mesh.rv_wall=5 "$C"
stage export "(every target, with biventricular fibres)" -q "$C"
