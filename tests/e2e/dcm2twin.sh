#!/bin/sh
# dcm2twin, the one command, on a small twin-phantom study: the four stages
# end to end; a second run skips them all and changes nothing; a changed
# setting, --from, --force, a touched or changed label map and a changed DICOM
# folder each run exactly the stages they should; a failing stage stops the
# run with its own exit code and message; twin-export's partial failure is
# exit 8 with a report; --print-config; --report; valgrind on dcm2twin. TAP.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"

echo "1..17"

STAGES="ingest segment mesh export"
TARGETS="vtu svmp abaqus febio opencarp openfoam xdmf msh22"
D=$W/p/dicom
C=$W/case
# coarse settings keep each full run to a few seconds
printf '[segment]\nspacing = 3\n\n[mesh]\nsize = 5\n' >"$W/quick.conf"

# dcm2twin -c quick.conf ARGS... DICOM CASE; $rc, $W/out, $W/err
run() { rc=0; dcm2twin -c "$W/quick.conf" "$@" "$D" "$C" >"$W/out" 2>"$W/err" || rc=$?; }
records() { c=$(grep -c "<record program=\"twin-$1\"" "$C/manifest.xml" 2>/dev/null); echo "${c:-0}"; }
snap() { for s in $STAGES; do echo "$s $(records $s)"; done >"$W/before"; }
# the stages with a new record since snap
ran() {
	r=
	while read -r s b; do
		[ "$(records "$s")" -gt "$b" ] && r="$r $s"
	done <"$W/before"
	echo "${r# }"
}
# why the run does not match: exit 0, exactly the stages in $1 ran, every other one said skipped
expect() {
	why=
	[ "$rc" = 0 ] || why="exit $rc: $(tail -n 2 "$W/err" | tr '\n' ' ')"
	got=$(ran)
	[ "$got" = "$1" ] || why="$why; ran '$got', want '$1'"
	for s in $STAGES; do
		case " $1 " in
		*" $s "*) grep -q "twin-$s is up to date" "$W/err" && why="$why; twin-$s said skipped" ;;
		*) grep -q "^dcm2twin: twin-$s is up to date, skipped$" "$W/err" || why="$why; no skip note for twin-$s" ;;
		esac
	done
	echo "${why#; }"
}
# size and SHA-256 of every file of the case but the report
sums() { (cd "$C" && find . -type f ! -name report.html ! -path './report/*' -exec sha256sum {} + | sort -k 2); }

twin-phantom --size 64x64x48 --spacing 2,2,2 "$W/p" >/dev/null 2>&1

# --- end to end -----------------------------------------------------------------
snap
run
why=$(expect "ingest segment mesh export")
[ -s "$C/mesh/heart.msh" ] || why="$why; no heart.msh"
for t in $TARGETS; do
	[ -n "$(ls -A "$C/export/$t" 2>/dev/null)" ] || why="$why; export/$t is missing or empty"
done
check "a phantom study end to end: heart.msh and every export folder" "${why#; }"

why=
[ -s "$C/report.html" ] || why="no report.html"
grep -q "^dcm2twin: report $C/report.html$" "$W/err" || why="$why; stderr does not name the report"
check "the run ends with CASE/report.html, named on stderr" "${why#; }"

# --- nothing changed: every stage skipped, no file touched ----------------------
sums >"$W/sums1"
touch "$W/mark"
sleep 1
snap
run
why=$(expect "")
sums >"$W/sums2"
cmp -s "$W/sums1" "$W/sums2" || why="$why; the case's files changed: $(diff "$W/sums1" "$W/sums2" | head -n 2 | tr '\n' ' ')"
newer=$(find "$C" -mindepth 1 -newer "$W/mark" ! -name report.html ! -path "$C/report/*" ! -path "$C/report" | head -n 3)
[ -z "$newer" ] || why="$why; written again: $newer"
check "a second run skips all four stages and writes no output again" "${why#; }"

# --- one mesh setting -------------------------------------------------------------
snap
run --set mesh.size=5.5
why=$(expect "mesh export")
grep -q '<setting key="mesh.size" value="5.5"/>' "$C/manifest.xml" || why="$why; --set mesh.size=5.5 did not reach twin-mesh"
check "--set mesh.size=5.5 runs mesh and export, skips ingest and segment" "${why#; }"

snap
run --set mesh.size=5.5
check "the same --set again skips all four" "$(expect "")"

# --- --from and --force -----------------------------------------------------------
snap
run --from segment
check "--from segment runs segment, mesh and export" "$(expect "segment mesh export")"

snap
run --force
check "--force runs all four" "$(expect "ingest segment mesh export")"

# --- the label map touched, then changed ----------------------------------------
sleep 1
touch "$C/segment/labels.nii.gz"
snap
run
check "a touched labels.nii.gz runs mesh and export" "$(expect "mesh export")"

printf 'not a label map' >"$C/segment/labels.nii.gz"
snap
run
why=$(expect "segment mesh export")
gzip -t "$C/segment/labels.nii.gz" 2>/dev/null || why="$why; labels.nii.gz was not written again"
check "a changed labels.nii.gz is not twin-segment's: segment, mesh and export run" "${why#; }"

# --- the DICOM folder -------------------------------------------------------------
sleep 1
touch "$D/$(ls "$D" | head -n 1)"
snap
run
check "a touched DICOM file runs all four" "$(expect "ingest segment mesh export")"

cp -rp "$D" "$W/dicom2"
snap
rc=0
dcm2twin -c "$W/quick.conf" "$W/dicom2" "$C" >"$W/out" 2>"$W/err" || rc=$?
check "another DICOM folder, same files and times, runs all four" "$(expect "ingest segment mesh export")"
D=$W/dicom2

# --- failures ---------------------------------------------------------------------
mkdir "$W/empty"
rc=0
dcm2twin -c "$W/quick.conf" "$W/empty" "$W/none" >"$W/out" 2>"$W/err" || rc=$?
why=
[ "$rc" = 3 ] || why="exit $rc, want 3 (twin-ingest's)"
grep -q "^twin-ingest: '$W/empty': no files" "$W/err" || why="$why; twin-ingest's message is missing"
grep -q "^dcm2twin: stopped: twin-ingest failed with exit code 3" "$W/err" || why="$why; no 'stopped' line"
grep -q "twin-segment\|is up to date" "$W/err" && why="$why; it went on after twin-ingest"
[ -e "$W/none" ] && why="$why; the case folder was left behind"
check "an empty DICOM folder stops the run with twin-ingest's exit code 3 and message" "${why#; }"

snap
rm -f "$C/report.html"
run --set mesh.max_tets=1000
why=
[ "$rc" = 7 ] || why="exit $rc, want 7 (twin-mesh's)"
grep -q "^twin-mesh: .*more than mesh.max_tets 1000" "$W/err" || why="$why; twin-mesh's message is missing"
[ "$(ran)" = "" ] || why="$why; ran '$(ran)'"
[ -s "$C/report.html" ] || why="$why; no report after the failure"
check "a failing twin-mesh stops before twin-export, exit 7, the report is written" "${why#; }"

snap
run --set mesh.labels=myocardium --set export.targets=vtu,openfoam
why=
[ "$rc" = 8 ] || why="exit $rc, want 8"
grep -q "^dcm2twin: some export targets failed" "$W/err" || why="$why; no line about the failed targets"
grep -q "^dcm2twin: report " "$W/err" || why="$why; no report"
[ -n "$(ls -A "$C/export/vtu" 2>/dev/null)" ] || why="$why; vtu is not written"
check "export targets that fail: exit 8 after the report, the others written" "${why#; }"

# --- --print-config and --report ----------------------------------------------------
sed -n 's/^\[\(.*\)\]$/\1/p; s/^\([a-z_.]*\) =.*/=\1/p' "$here/../../pipeline.conf" |
	awk '/^=/ { print s "." substr($0, 2); next } { s = $0 }' | sort >"$W/keys.want"
why=
rc=0
dcm2twin --print-config -c "$W/quick.conf" --set mesh.size=3 >"$W/conf" 2>"$W/err" || rc=$?
if [ "$rc" != 0 ]; then
	why="exit $rc: $(cat "$W/err")"
else
	sed -n 's/^\[\(.*\)\]$/\1/p; s/^\([a-z_.]*\) =.*/=\1/p' "$W/conf" |
		awk '/^=/ { print s "." substr($0, 2); next } { s = $0 }' | sort >"$W/keys.got"
	cmp -s "$W/keys.want" "$W/keys.got" || why="keys differ from pipeline.conf: $(diff "$W/keys.want" "$W/keys.got" | head -n 3 | tr '\n' ' ')"
	sed -n '/^\[mesh\]/,/^\[/p' "$W/conf" | grep -q '^size = 3  # --set$' || why="$why; no 'size = 3  # --set' in [mesh]"
	sed -n '/^\[segment\]/,/^\[/p' "$W/conf" | grep -q "^spacing = 3  # $W/quick.conf:2$" || why="$why; segment.spacing does not say it is from quick.conf:2"
	dcm2twin --print-config -c "$W/conf" >"$W/conf2" 2>"$W/err" || why="$why; its output does not read back: $(cat "$W/err")"
	sed 's/  # .*//' "$W/conf" >"$W/v1"
	sed 's/  # .*//' "$W/conf2" >"$W/v2"
	cmp -s "$W/v1" "$W/v2" || why="$why; read back, the values differ"
fi
check "--print-config prints every key of pipeline.conf with its origin, --set wins, and reads back" "${why#; }"

snap
rm -f "$C/report.html"
why=
rc=0
dcm2twin --report "$C" >"$W/out" 2>"$W/err" || rc=$?
if [ "$rc" != 0 ]; then
	why="exit $rc: $(cat "$W/err")"
elif [ ! -s "$C/report.html" ]; then
	why="no report.html"
elif [ -n "$(ran)" ]; then
	why="it ran $(ran)"
fi
check "--report CASE writes the report and runs no stage" "$why"

# --- valgrind on dcm2twin itself (the stages are other processes) ---------------------
if ldd "$(command -v dcm2twin)" 2>/dev/null | grep -q libasan; then
	skip "dcm2twin is clean under valgrind" "dcm2twin is built with AddressSanitizer, which checks its runs itself"
elif command -v valgrind >/dev/null 2>&1; then
	why=
	vg() { valgrind -q --leak-check=full --error-exitcode=99 --trace-children=no "$@"; }
	# --from export: the checks that skip ingest, segment and mesh, then twin-export and the report
	run --set mesh.labels=myocardium --set export.targets=vtu
	vg dcm2twin -c "$W/quick.conf" --from export --set mesh.labels=myocardium --set export.targets=vtu \
		"$D" "$C" >/dev/null 2>"$W/vg1" || why="--from export: exit $?: $(grep -v '^dcm2twin: \|^twin-' "$W/vg1" | head -n 5)"
	grep -q "twin-mesh is up to date" "$W/vg1" || why="$why; twin-mesh was not skipped"
	vg dcm2twin --print-config -c "$W/quick.conf" --set mesh.size=3 >/dev/null 2>"$W/vg3" ||
		why="$why; --print-config: exit $?: $(head -n 5 "$W/vg3")"
	vg dcm2twin --from nowhere "$D" "$C" >/dev/null 2>"$W/vg4"
	[ $? = 2 ] || why="$why; usage error: $(head -n 5 "$W/vg4")"
	check "dcm2twin is clean under valgrind: skipping and running stages, the report, --print-config, a usage error" "${why#; }"
else
	skip "dcm2twin is clean under valgrind" "valgrind is absent"
fi
