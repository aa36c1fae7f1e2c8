#!/bin/sh
# twin-export speed: gmsh meshes tests/data/export/lv.geo finely (about
# 1 000 000 tetrahedra, 46 MB) into a binary MSH 4.1 heart.msh; then
# twin-export -v times reading it and writing each target, in the same run.
# Writing any target must take less time than reading heart.msh.
#
# Times are CPU seconds (user + system) of twin-export's own threads, as
# -v prints them: on a busy machine wall time measures the neighbours.
# Each figure is the smallest of five runs. The fibres are computed once per
# run, before the targets, and are not part of any figure. CASE/export is
# removed before each run, so a target's time is its writing, not the
# removal of the previous copy. Prints one line per target with the wall
# time beside it; exit 1 when a target's CPU time is not below the read's.
here=$(cd "$(dirname "$0")" && pwd)
: "${TWIN_BIN:=$here/../build/bin}"
PATH="$TWIN_BIN:$PATH"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
: "${EXPORT_BENCH_CLMAX:=0.62}"
: "${EXPORT_BENCH_RUNS:=5}"

mkdir -p "$W/case/mesh"
sed -e "s/CharacteristicLengthMax = [0-9.]*/CharacteristicLengthMax = $EXPORT_BENCH_CLMAX/" \
    -e "s/CharacteristicLengthMin = [0-9.]*/CharacteristicLengthMin = 0.5/" \
    "$here/../tests/data/export/lv.geo" >"$W/lv.geo"
if ! gmsh -3 -bin -format msh41 "$W/lv.geo" -o "$W/case/mesh/heart.msh" >"$W/gmsh.log" 2>&1; then
	echo "bench/export: gmsh failed: $(tail -n 2 "$W/gmsh.log")" >&2
	exit 1
fi
run=0
while [ "$run" -lt "$EXPORT_BENCH_RUNS" ]; do
	run=$((run + 1))
	rm -rf "$W/case/export"
	if ! twin-export -v "$W/case" 2>>"$W/log"; then
		echo "bench/export: twin-export failed: $(grep -v '^twin-export: wrote\|^twin-export: read' "$W/log" | tail -n 3)" >&2
		exit 1
	fi
done
# "read '…' in W s, CPU C s: what" and "wrote '…/target' in W s, CPU C s"
awk -v size="$(wc -c <"$W/case/mesh/heart.msh")" -v load="$(cut -d ' ' -f 1-3 /proc/loadavg)" '
	function min(a, b) { return a == "" || b < a ? b : a }
	function field(after,    i) { for (i = 1; i < NF; i++) if ($i == after) return $(i + 1) + 0 }
	/^twin-export: read / {
		rw = min(rw, field("in")); rc = min(rc, field("CPU"))
		what = $0; sub(/^[^:]*: [^:]*: /, "", what)
	}
	/^twin-export: wrote / {
		name = $3; gsub(/.*\/|'\''/, "", name)
		if (!(name in c)) order[n++] = name
		w[name] = min(w[name], field("in")); c[name] = min(c[name], field("CPU"))
	}
	END {
		printf "export: read heart.msh (%.1f MB, %s): CPU %.3f s, wall %.3f s (load %s)\n",
		       size / 1e6, what, rc, rw, load
		for (i = 0; i < n; i++) {
			slow = c[order[i]] >= rc
			bad += slow
			printf "export: %-9s CPU %.3f s  %5.2fx the read   wall %.3f s%s\n", order[i],
			       c[order[i]], c[order[i]] / rc, w[order[i]], slow ? "  SLOWER THAN READING" : ""
		}
		exit bad ? 1 : 0
	}' "$W/log"
