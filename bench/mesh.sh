#!/bin/sh
# twin-mesh speed: tetrahedra per second from a twin-phantom label map to the
# written heart.msh, at 1 mm and at 1.5 mm (a 1 mm label map of the whole
# phantom heart), and the same for the Gmsh stage alone (tetrahedralising and
# optimising the same surfaces, as twin-mesh -v reports it), the smallest
# dihedral angle and how many tets have one under 10 degrees. The issue's
# targets: 100 000 tets/s end to end and a 1 M-tet heart in under 30 s.
# Prints a table; exit 1 when twin-mesh fails. MESH_BENCH_SIZES overrides
# the sizes (mm, space separated).
here=$(cd "$(dirname "$0")" && pwd)
: "${TWIN_BIN:=$here/../build/bin}"
: "${MESH_BENCH_SIZES:=1.5 1}"
PATH="$TWIN_BIN:$PATH"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

if ! twin-phantom --size 128x128x96 --spacing 1,1,1 "$W/p" >"$W/phantom.log" 2>&1; then
	echo "bench/mesh: twin-phantom failed: $(tail -n 2 "$W/phantom.log")" >&2
	exit 1
fi
printf '%-8s %10s %9s %11s %9s %11s %10s %11s %9s %8s\n' "size mm" tets "total s" "tets/s" "cpu s" "tets/cpu s" \
	"gmsh s" "gmsh tets/s" "min dih" "<10 deg"
for size in $MESH_BENCH_SIZES; do
	rm -rf "$W/case"
	# wall and CPU seconds (the shell's times: children's user and system); on a
	# busy machine the CPU time tells the speed
	start=$(date +%s.%N)
	if ! (twin-mesh -v --labels "$W/p/truth/labels.nii.gz" --size "$size" "$W/case" 2>"$W/log" &&
		times >"$W/times"); then
		echo "bench/mesh: twin-mesh --size $size failed: $(grep -v warning "$W/log" | tail -n 2)" >&2
		exit 1
	fi
	end=$(date +%s.%N)
	cpu=$(tail -n 1 "$W/times" | awk '{
		s = 0
		for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
		print s }')
	awk -v size="$size" -v t0="$start" -v t1="$end" -v cpu="$cpu" '
		/^twin-mesh: volume: / { tets = $3; for (i = 1; i <= NF; i++) if ($i == "in") g = $(i + 1) + 0 }
		/smallest dihedral angle/ { for (i = 1; i <= NF; i++) if ($i == "angle") d = $(i + 1) + 0 }
		/tetrahedra have one below/ { for (i = 1; i <= NF; i++) if ($i == "of") bad = $(i - 1) + 0 }
		END {
			t = t1 - t0
			printf "%-8s %10d %9.2f %11.0f %9.2f %11.0f %10.2f %11.0f %9.1f %8d\n", size, tets, t, tets / t,
				cpu, tets / cpu, g, tets / g, d, bad
		}' "$W/log"
done
