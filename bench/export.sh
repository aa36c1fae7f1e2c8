#!/bin/sh
# twin-export speed: gmsh meshes tests/data/export/lv.geo finely (about
# 300 000 tetrahedra) into a binary MSH 4.1 heart.msh, then twin-export -v
# times reading it and writing each target. Writing any target must take
# less time than reading heart.msh. Prints one line per target; exit 1 when
# one is slower.
here=$(cd "$(dirname "$0")" && pwd)
: "${TWIN_BIN:=$here/../build/bin}"
PATH="$TWIN_BIN:$PATH"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
: "${EXPORT_BENCH_CLMAX:=1.1}"

mkdir -p "$W/case/mesh"
sed -e "s/CharacteristicLengthMax = [0-9.]*/CharacteristicLengthMax = $EXPORT_BENCH_CLMAX/" \
    -e "s/CharacteristicLengthMin = [0-9.]*/CharacteristicLengthMin = 0.5/" \
    "$here/../tests/data/export/lv.geo" >"$W/lv.geo"
if ! gmsh -3 -bin -format msh41 "$W/lv.geo" -o "$W/case/mesh/heart.msh" >"$W/gmsh.log" 2>&1; then
	echo "bench/export: gmsh failed: $(tail -n 2 "$W/gmsh.log")" >&2
	exit 1
fi
# five runs; each time is the fastest of them, as the machine may be busy
for run in 1 2 3 4 5; do
	if ! twin-export -v "$W/case" 2>>"$W/log"; then
		echo "bench/export: twin-export failed: $(grep -v '^twin-export: wrote\|^twin-export: read' "$W/log" | tail -n 3)" >&2
		exit 1
	fi
done
awk -v size="$(wc -c <"$W/case/mesh/heart.msh")" '
	function min(a, b) { return a == "" || b < a ? b : a }
	/^twin-export: read / {
		for (i = 1; i <= NF; i++) if ($i == "in") read = min(read, $(i + 1) + 0)
		what = $0; sub(/^.*: /, "", what)
	}
	/^twin-export: wrote / {
		name = $3; gsub(/.*\/|'\''/, "", name)
		if (!(name in t)) order[n++] = name
		t[name] = min(t[name], $(NF - 1) + 0)
	}
	END {
		printf "export: read heart.msh (%.1f MB, %s) in %.3f s\n", size / 1e6, what, read
		for (i = 0; i < n; i++) {
			slow = t[order[i]] >= read
			bad += slow
			printf "export: %-9s %.3f s  %5.2fx the read%s\n", order[i], t[order[i]],
			       t[order[i]] / read, slow ? "  SLOWER THAN READING" : ""
		}
		exit bad ? 1 : 0
	}' "$W/log"
