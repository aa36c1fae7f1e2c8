#!/bin/sh
# twin-export on a small thick-walled LV that gmsh meshes from
# tests/data/export/lv.geo: every target is written, and the real programs
# use them as they are: CalculiX inflates the myocardium, OpenFOAM's
# checkMesh passes and icoFoam runs from the mitral inlet to the aortic
# outlet, dolfinx solves a Laplace problem between two tagged surfaces,
# meshio and VTK read every format they know with every name, and the files
# of FEBio, openCARP and svMultiPhysics have the structure FORMATS.md gives.
# The LDRB fibres reach every target that has a place for them, with the
# same values, and CalculiX runs with them as the myocardium's orientation;
# a myocardium without an epicardium gets a warning and no fibres.
# A program that is missing is a visible SKIP. TAP.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
PY=/usr/bin/python3

# has PROGRAM / pyhas MODULE: whether it is installed
pyhas() { $PY -c "import $1" >/dev/null 2>&1; }

echo "1..15"
C=$W/case
mkdir -p "$C/mesh"
if ! has gmsh; then
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do skip "export on a gmsh mesh" "the gmsh program is absent"; done
	exit 0
fi
if ! gmsh -3 -format msh41 "$here/../data/export/lv.geo" -o "$C/mesh/heart.msh" >"$W/gmsh.log" 2>&1; then
	notok "gmsh meshes lv.geo" "$(tail -n 3 "$W/gmsh.log")"
	exit 0
fi

# 1: every target, a README each, a manifest record
if twin-export "$C" 2>"$W/export.err"; then
	missing=
	for t in vtu svmp abaqus febio opencarp openfoam xdmf msh22; do
		[ -f "$C/export/$t/README.txt" ] || missing="$missing $t"
	done
	if [ -z "$missing" ] && grep -q 'program="twin-export"' "$C/manifest.xml" &&
	   [ -z "$(ls -A "$C/export" | grep '^\.')" ]; then
		ok "twin-export writes the eight target folders, each with a README, and a manifest record"
	else
		notok "twin-export writes every target" "missing:$missing" "$(ls -A "$C/export")"
	fi
else
	notok "twin-export exits 0" "$(tail -n 3 "$W/export.err")"
	exit 0
fi
E=$C/export

# 2: CalculiX
if has ccx; then
	if out=$($PY "$here/export/ccx_inflate.py" "$E/abaqus" "$W/ccx" endocardium_lv 2>&1); then
		ok "CalculiX inflates the myocardium with pressure on endocardium_lv: $out"
	else
		notok "CalculiX passive inflation" "$out"
	fi
else
	skip "CalculiX passive inflation" "ccx is absent (calculix-ccx)"
fi

# 3, 4: OpenFOAM
if has checkMesh && has icoFoam; then
	export FOAM_ETC="${FOAM_ETC:-/usr/share/openfoam/etc}" WM_PROJECT_DIR="${WM_PROJECT_DIR:-/usr/share/openfoam}"
	cp -r "$E/openfoam" "$W/foam"
	# the LV's tetrahedra, as the README counts them from heart.msh
	lv=$(sed -n 's/^  3 heart_ventricle_left \([0-9]*\)$/\1/p' "$E/openfoam/README.txt")
	if (cd "$W/foam" && checkMesh) >"$W/checkMesh.log" 2>&1 && grep -q '^Mesh OK' "$W/checkMesh.log" &&
	   [ -n "$lv" ] && grep -q "^ *heart_ventricle_left  *$lv " "$W/checkMesh.log"; then
		ok "OpenFOAM checkMesh passes on the blood-pool polyMesh, whose cellZone heart_ventricle_left has the LV's $lv cells"
	else
		notok "OpenFOAM checkMesh" "$(grep -E 'FATAL|\*\*\*|Failed' "$W/checkMesh.log" | head -n 3)"
	fi
	# the flux through each valve at the last step: 5 L/min in, the same out
	fin= fout=
	flux() {
		(cd "$W/foam" && postProcess -latestTime -func "flowRatePatch(name=$1)") 2>/dev/null |
			sed -n "s/^ *sum($1) of phi = //p" | tail -n 1
	}
	if (cd "$W/foam" && icoFoam) >"$W/icoFoam.log" 2>&1 && grep -q '^End' "$W/icoFoam.log" &&
	   [ "$(grep -c '^Time = ' "$W/icoFoam.log")" -ge 50 ] && [ -f "$W/foam/0.005/U" ] &&
	   fin=$(flux mitral_valve) && fout=$(flux aortic_valve) &&
	   awk -v i="$fin" -v o="$fout" 'BEGIN { d = i + o; exit !(i < -8e-5 && i > -8.7e-5 && d * d < 1e-14) }'; then
		ok "icoFoam runs 50 steps from the mitral inlet ($fin m^3/s) to the aortic outlet ($fout m^3/s)"
	else
		notok "icoFoam runs" "flux in '$fin', out '$fout'" "$(grep -E 'FATAL|rror' "$W/icoFoam.log" | head -n 3)" "$(tail -n 2 "$W/icoFoam.log")"
	fi
else
	skip "OpenFOAM checkMesh" "checkMesh is absent (openfoam)"
	skip "OpenFOAM icoFoam" "icoFoam is absent (openfoam)"
fi

# 12 (run here, beside OpenFOAM; reported below): gmshToFoam reads the MSH 2.2 copy with every name
if has gmshToFoam && has checkMesh; then
	mkdir -p "$W/g2f"
	cp -r "$E/openfoam/system" "$W/g2f/"
	names=
	if (cd "$W/g2f" && gmshToFoam "$E/msh22/heart.msh" && checkMesh) >"$W/g2f.log" 2>&1 &&
	   grep -q '^Mesh OK' "$W/g2f.log"; then
		for name in heart_myocardium heart_ventricle_left; do
			grep -aq "$name" "$W/g2f/constant/polyMesh/cellZones" || names="$names $name"
		done
		for name in endocardium_lv epicardium mitral_valve aortic_valve; do
			grep -aq "^    $name\$" "$W/g2f/constant/polyMesh/boundary" || names="$names $name"
		done
		if [ -z "$names" ]; then
			ok13="ok"
		else
			ok13="gmshToFoam lost:$names"
		fi
	else
		ok13="gmshToFoam or checkMesh failed: $(grep -E 'FATAL|\*\*\*' "$W/g2f.log" | head -n 2)"
	fi
else
	ok13=skip
fi

# 5: dolfinx
if pyhas dolfinx; then
	if out=$(cd "$W" && XDG_CACHE_HOME="$W/cache" $PY "$here/export/dolfinx_laplace.py" "$E/xdmf" mitral_valve aortic_valve 2>"$W/dolfinx.err"); then
		ok "dolfinx reads the XDMF tags and solves a Laplace problem from mitral to aortic valve: $out"
	else
		notok "dolfinx Laplace" "$out" "$(grep -v INFO "$W/dolfinx.err" | tail -n 3)"
	fi
else
	skip "dolfinx Laplace" "python3-dolfinx is absent"
fi

# 6-9: readers and structure
check() {
	if out=$($PY "$here/export/check_export.py" "$C/mesh/heart.msh" "$E" "$1" 2>&1); then
		ok "$2: $(echo "$out" | tail -n 1)"
	else
		notok "$2" "$(echo "$out" | tail -n 5)"
	fi
}
if pyhas meshio && pyhas vtk && pyhas h5py; then
	check readers "meshio and VTK read vtu, vtp, svmp, abaqus, msh22, xdmf and the OpenFOAM case with every name"
else
	skip "meshio and VTK readers" "python3-meshio, python3-vtk9 or python3-h5py is absent"
fi
if pyhas meshio; then
	check febio "FEBio 4.0 structure: ids, counts, surfaces on the right region"
	check opencarp "openCARP structure: micrometres, 0-based, surfaces on the right region"
else
	skip "FEBio structure" "python3-meshio is absent"
	skip "openCARP structure" "python3-meshio is absent"
fi
if pyhas meshio && pyhas vtk; then
	check svmp "svMultiPhysics structure: 1-based ids, each face's parent element"
else
	skip "svMultiPhysics structure" "python3-meshio or python3-vtk9 is absent"
fi

# 10: a second run replaces the folders and leaves nothing else behind
before=$(find "$E" -type f | wc -l)
if twin-export --targets abaqus,msh22 "$C" 2>"$W/again.err" &&
   [ "$(find "$E" -type f | wc -l)" = "$before" ] && [ -z "$(ls -A "$E" | grep '^\.')" ] &&
   [ "$(grep -c 'program="twin-export"' "$C/manifest.xml")" = 2 ]; then
	ok "a second run replaces its folders in place and adds a second record"
else
	notok "a second run" "$(cat "$W/again.err")" "$(ls -A "$E")"
fi

# 11: the blood pool without an outlet: openfoam fails alone, exit 8
sed 's/^Physical Surface("aortic_valve", 4)/\/\/ &/' "$here/../data/export/lv.geo" >"$W/no_outlet.geo"
mkdir -p "$W/partial/mesh"
if gmsh -3 -format msh41 "$W/no_outlet.geo" -o "$W/partial/mesh/heart.msh" >/dev/null 2>&1; then
	twin-export -t openfoam,abaqus,xdmf "$W/partial" 2>"$W/partial.err"
	rc=$?
	if [ $rc = 8 ] && grep -q "^twin-export: warning: openfoam: mesh .*heart.msh.: the blood pool has no outlet" "$W/partial.err" &&
	   grep -q "^twin-export: 1 of 3 targets failed (openfoam)" "$W/partial.err" &&
	   [ -f "$W/partial/export/abaqus/heart.inp" ] && [ -f "$W/partial/export/xdmf/heart.h5" ] &&
	   [ ! -e "$W/partial/export/openfoam" ]; then
		ok "a mesh without an outlet: openfoam fails naming it, abaqus and xdmf are written, exit 8"
	else
		notok "partial failure" "exit $rc" "$(cat "$W/partial.err")"
	fi
else
	notok "gmsh meshes the variant without an outlet"
fi

# 12: gmshToFoam, run above
case $ok13 in
ok) ok "gmshToFoam reads the MSH 2.2 copy: every region a cellZone, every surface a patch, checkMesh passes" ;;
skip) skip "gmshToFoam on the MSH 2.2 copy" "gmshToFoam is absent (openfoam)" ;;
*) notok "gmshToFoam on the MSH 2.2 copy" "$ok13" ;;
esac

# 13: a whole phantom heart from twin-mesh (7 regions, valves, inlets and
# outlets): every target, CalculiX (linear, valve rings fixed), checkMesh
# and a few icoFoam steps on both blood pools, dolfinx, and the structure
# and reader checks
if has twin-phantom && has twin-mesh; then
	H=$W/heart
	why=
	if ! twin-phantom --size 48x48x36 --spacing 2.5,2.5,2.5 "$W/phantom" >/dev/null 2>&1 ||
	   ! twin-mesh -q --labels "$W/phantom/truth/labels.nii.gz" --size 4 "$H" >/dev/null 2>"$W/heart.err"; then
		why="twin-phantom or twin-mesh failed: $(tail -n 2 "$W/heart.err")"
	elif ! twin-export "$H" 2>"$W/heart.err"; then
		why="twin-export failed: $(tail -n 2 "$W/heart.err")"
	else
		for c in readers febio opencarp svmp; do
			if ! pyhas meshio || ! pyhas vtk || ! pyhas h5py; then
				break
			fi
			out=$($PY "$here/export/check_export.py" "$H/mesh/heart.msh" "$H/export" $c 2>&1) ||
				why="$why $(echo "$out" | tail -n 3 | tr '\n' ' ')"
		done
		# the fibres, when the phantom's walls let them be computed
		if pyhas meshio && pyhas vtk && pyhas h5py && grep -q '^Fibres (' "$H/export/vtu/README.txt"; then
			out=$($PY "$here/export/check_fibres.py" "$H/export" 2>&1) || why="$why fibres: $out"
		fi
		if has ccx; then
			out=$($PY "$here/export/ccx_inflate.py" "$H/export/abaqus" "$W/hccx" endocardium_lv \
				mitral_valve aortic_valve tricuspid_valve pulmonary_valve 2>&1) || why="$why CalculiX: $out"
		fi
		if pyhas dolfinx; then
			out=$(cd "$W" && XDG_CACHE_HOME="$W/cache" $PY "$here/export/dolfinx_laplace.py" "$H/export/xdmf" \
				inlet_la_1 outlet_ao_1 2>/dev/null) || why="$why dolfinx: $out"
		fi
		if has checkMesh && has icoFoam; then
			cp -r "$H/export/openfoam" "$W/hfoam"
			sed -i 's/^endTime .*/endTime         0.001;/' "$W/hfoam/system/controlDict"
			(cd "$W/hfoam" && checkMesh) >"$W/hfoam.log" 2>&1 && grep -q '^Mesh OK' "$W/hfoam.log" ||
				why="$why checkMesh: $(grep -E 'FATAL|\*\*\*' "$W/hfoam.log" | head -n 2)"
			(cd "$W/hfoam" && icoFoam) >"$W/hico.log" 2>&1 && grep -q '^End' "$W/hico.log" ||
				why="$why icoFoam: $(grep -E 'FATAL|rror' "$W/hico.log" | head -n 2)"
		fi
	fi
	if [ -z "$why" ]; then
		ok "a phantom heart from twin-mesh: every target; CalculiX inflates the LV with the valves fixed; checkMesh and icoFoam on both blood pools; dolfinx from LA inlet to aortic outlet; structure and readers"
	else
		notok "a phantom heart from twin-mesh" "$why"
	fi
else
	skip "a phantom heart from twin-mesh" "twin-phantom or twin-mesh is not built"
fi

# 14: the fibres, read back from every target that has them
if pyhas meshio && pyhas vtk && pyhas h5py; then
	if out=$($PY "$here/export/check_fibres.py" "$E" 2>&1) && grep -q '^Fibres (fibre, sheet' "$E/febio/README.txt" &&
	   grep -q '^Fibres: none; this format has no place for them' "$E/msh22/README.txt"; then
		ok "$out"
	else
		notok "fibres in every target" "$(echo "$out" | tail -n 3)"
	fi
else
	skip "fibres in every target" "python3-meshio, python3-vtk9 or python3-h5py is absent"
fi

# 15: a myocardium without an epicardium: a warning names why, every target is written without fibres, exit 0
sed 's/^Physical Surface("epicardium", 2)/\/\/ &/' "$here/../data/export/lv.geo" >"$W/no_epi.geo"
mkdir -p "$W/noepi/mesh"
if gmsh -3 -format msh41 "$W/no_epi.geo" -o "$W/noepi/mesh/heart.msh" >/dev/null 2>&1; then
	twin-export "$W/noepi" 2>"$W/noepi.err"
	rc=$?
	if [ $rc = 0 ] && grep -q "^twin-export: warning: fibres: mesh .*heart.msh.: .*epicardium.*; the targets are written without fibres" "$W/noepi.err" &&
	   grep -q "the targets are written without fibres" "$W/noepi/manifest.xml" &&
	   [ -f "$W/noepi/export/abaqus/heart.inp" ] && ! grep -q FIBRE_AXES "$W/noepi/export/abaqus/heart.inp" &&
	   [ ! -e "$W/noepi/export/opencarp/heart.lon" ] && grep -q '^Fibres: none; the mesh has no myocardium' "$W/noepi/export/vtu/README.txt"; then
		ok "a myocardium without an epicardium: a warning names it, every target is written without fibres, exit 0"
	else
		notok "fibres that cannot be computed" "exit $rc" "$(cat "$W/noepi.err")"
	fi
else
	notok "gmsh meshes the variant without an epicardium"
fi
