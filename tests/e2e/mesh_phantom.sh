#!/bin/sh
# twin-mesh on twin-phantom label maps: a mesh with every region and the
# named surfaces of ARCHITECTURE.md, a valid quality.xml whose volume,
# distance and orientation requirements are met, a manifest record, a file
# Gmsh itself reads; blood only; the default phantom's vessels (the make demo
# study) closed by planar caps across them; and a label map from twin-segment
# when that stage is built (pipeline_memcheck.sh runs twin-mesh under
# valgrind). TAP.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
XSD=$here/../../mesh/quality.xsd

echo "1..9"

# --- the whole heart at 2 mm ----------------------------------------------------
twin-phantom --size 64x64x48 --spacing 2,2,2 "$W/p" >/dev/null 2>&1
Q=$W/case/mesh/quality.xml
why=
if ! twin-mesh --labels "$W/p/truth/labels.nii.gz" --size 2.4 "$W/case" >"$W/out" 2>"$W/err"; then
	why="exit $?: $(tail -n 2 "$W/err")"
elif [ -s "$W/out" ]; then
	why="stdout is not empty"
elif [ ! -s "$W/case/mesh/heart.msh" ] || [ ! -s "$Q" ]; then
	why="heart.msh or quality.xml is missing"
fi
check "a phantom label map gives heart.msh and quality.xml, nothing on stdout" "$why"

why=$(xmllint --noout --schema "$XSD" "$Q" 2>&1 | grep -v ' validates$')
check "quality.xml is valid against mesh/quality.xsd" "$why"

why=
for r in heart_myocardium heart_atrium_left heart_ventricle_left heart_atrium_right \
	heart_ventricle_right aorta pulmonary_artery; do
	grep -q "<region id=\"[1-7]\" name=\"$r\"" "$Q" || why="$why region $r missing;"
done
for s in mitral_valve aortic_valve pulmonary_valve tricuspid_valve epicardium endocardium_lv \
	endocardium_rv wall_ao outlet_ao_1 outlet_pa_1 inlet_la_1 inlet_ra_1; do
	grep -q "<surface tag=\"[0-9]*\" name=\"$s\"" "$Q" || why="$why surface $s missing;"
done
check "seven regions; four valves, endo- and epicardium, walls, inlets and outlets" "$why"

why=
for req in no_inverted_tetrahedra surface_triangles_on_tetrahedra min_dihedral_deg max_volume_error_percent surface_distance_mm; do
	grep -q "<requirement name=\"$req\" met=\"true\"" "$Q" || why="$why $(grep "name=\"$req\"" "$Q")"
done
check "no inverted tetrahedra, every surface triangle on its tetrahedra, no dihedral angle under 10 deg, region volumes within 3 %, surface within a voxel" "$why"

why=
grep -q '<program>twin-mesh</program>\|program="twin-mesh"\|>twin-mesh<' "$W/case/manifest.xml" 2>/dev/null ||
	why="no twin-mesh record in manifest.xml"
grep -q 'mesh/heart.msh' "$W/case/manifest.xml" 2>/dev/null || why="$why; heart.msh is not an output"
check "the manifest has the run with heart.msh as an output" "$why"

why=
if command -v gmsh >/dev/null 2>&1; then
	if ! gmsh "$W/case/mesh/heart.msh" -0 -o "$W/again.msh" -v 1 >"$W/gmsh.log" 2>&1; then
		why="gmsh failed: $(tail -n 2 "$W/gmsh.log")"
	elif ! grep -q '"mitral_valve"' "$W/again.msh"; then
		why="gmsh lost the surface names"
	fi
	check "gmsh reads heart.msh with its physical names" "$why"
else
	skip "gmsh reads heart.msh" "the gmsh program is absent"
fi

# --- blood only, coarser --------------------------------------------------------
why=
if ! twin-mesh --labels "$W/p/truth/labels.nii.gz" --select blood --size 3 "$W/blood" 2>"$W/err"; then
	why="exit $?: $(tail -n 2 "$W/err")"
else
	B=$W/blood/mesh/quality.xml
	grep -q 'name="heart_myocardium"' "$B" && why="the myocardium was meshed"
	grep -q 'name="endocardium_lv"' "$B" || why="$why; no endocardium_lv surface"
	[ "$(grep -c '<region ' "$B")" = 6 ] || why="$why; not six blood regions"
fi
check "--select blood meshes the six blood pools, the wall stays named endocardium" "$why"

# --- the default phantom: every vessel ends in a planar cap across it -----------
# Its four pulmonary veins end inside the image and its venae cavae leave it:
# each is cut across its centreline (mesh/vessels.h). caps.py: each cap's
# nodes lie on one plane, and its normal is near the direction from the wall
# next to it to its centre (a rough axis on a 3 mm grid, hence 20 degrees).
why=
if ! twin-phantom --seed 1 "$W/p1" >/dev/null 2>&1; then
	why="twin-phantom --seed 1 failed"
elif ! twin-mesh --labels "$W/p1/truth/labels.nii.gz" --size 3 "$W/d" 2>"$W/err"; then
	why="exit $?: $(tail -n 2 "$W/err")"
elif ! out=$(/usr/bin/python3 "$here/mesh/caps.py" "$W/d/mesh/heart.msh" 1e-6 20 inlet_la_1 inlet_la_2 \
	inlet_la_3 inlet_la_4 inlet_ra_1 inlet_ra_2 outlet_ao_1 outlet_pa_1 2>&1); then
	why=$(echo "$out" | grep -v ' degrees from the vessel.s axis$' | head -n 4)
	why=${why:-$out}
elif grep -q 'name="inlet_la_5"\|name="inlet_ra_3"' "$W/d/mesh/quality.xml"; then
	why="a fifth pulmonary vein or a third vena cava"
elif command -v twin-export >/dev/null 2>&1 && ! twin-export -q -t openfoam "$W/d" 2>"$W/err"; then
	why="twin-export -t openfoam, which needs an inlet and an outlet in each circulation: $(tail -n 2 "$W/err")"
fi
check "the default phantom: inlet_la_1..4 and inlet_ra_1..2, each cap flat and across its vessel; its OpenFOAM case is written" "$why"

# --- a label map from twin-segment ----------------------------------------------
if command -v twin-segment >/dev/null 2>&1; then
	why=
	if ! twin-segment -q --image "$W/p/truth/image.nii.gz" "$W/s" >/dev/null 2>"$W/err"; then
		skip "twin-mesh on twin-segment's label map" "twin-segment failed: $(tail -n 1 "$W/err")"
	else
		if ! twin-mesh --size 3 "$W/s" 2>"$W/err"; then
			why="exit $?: $(tail -n 2 "$W/err")"
		else
			for req in no_inverted_tetrahedra max_volume_error_percent surface_distance_mm; do
				grep -q "<requirement name=\"$req\" met=\"true\"" "$W/s/mesh/quality.xml" ||
					why="$why $req not met;"
			done
			[ "$(grep -c '<region ' "$W/s/mesh/quality.xml")" = 7 ] || why="$why not seven regions;"
		fi
		check "twin-mesh on twin-segment's label map meets the requirements" "$why"
	fi
else
	skip "twin-mesh on twin-segment's label map" "twin-segment is not built"
fi
