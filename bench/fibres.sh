#!/bin/sh
# Fibre speed (issue 7): gmsh meshes tests/data/fibres/lv.geo, the phantom
# LV wall, at FIBRES_BENCH_H mm (default 0.6: about a million tetrahedra),
# then twin-fibres times the LDRB fibres on it: the assembly, the CHOLMOD
# solves of the four Laplace problems and the per-tet frames, each the
# fastest of two runs. Prints a table; exit 1 when the total is 20 s or more.
bench=fibres
. "$(dirname "$0")/lib.sh"
: "${FIBRES_BENCH_H:=0.6}"

need gmsh twin-fibres

start=$(date +%s)
if ! gmsh -3 -nt 2 -algo hxt -bin -format msh41 -setnumber h "$FIBRES_BENCH_H" \
	"$here/../tests/data/fibres/lv.geo" -o "$W/lv.msh" >"$W/gmsh.log" 2>&1; then
	echo "bench/fibres: gmsh failed: $(tail -n 2 "$W/gmsh.log")" >&2
	exit 1
fi
meshed=$(($(date +%s) - start))
if ! twin-fibres --repeat 2 "$W/lv.msh" >"$W/out" 2>"$W/err"; then
	echo "bench/fibres: twin-fibres failed: $(tail -n 3 "$W/err")" >&2
	exit 1
fi
awk -v meshed="$meshed" -v h="$FIBRES_BENCH_H" '
	{ for (i = 1; i < NF; i += 2) v[$i] = $(i + 1) }
	END {
		printf "fibres: LV wall from tests/data/fibres/lv.geo, h %s mm (gmsh: %d s)\n", h, meshed
		printf "fibres: %9s %9s %12s %9s %10s %9s\n", "tets", "nodes", "assembly s", "solve s", "frames s", "total s"
		printf "fibres: %9d %9d %12.3f %9.3f %10.3f %9.3f%s\n", v["tets"], v["nodes"], v["assemble"],
		       v["solve"], v["frames"], v["total"], v["total"] < 20 ? "" : "  OVER 20 s"
		exit v["total"] < 20 ? 0 : 1
	}' "$W/out"
