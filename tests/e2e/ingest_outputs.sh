#!/bin/sh
# twin-ingest's outputs as a whole: those of one run appear together or not
# at all, so an earlier run's files survive a failing run byte for byte; a
# failed run is recorded in an existing case's manifest.xml unless the case
# folder itself is at fault; --uncompressed writes image.nii; --keep-phi keeps
# the patient fields in series.xml and nowhere else. TAP.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"

check() { label=$1; shift; if "$@"; then ok "$label"; else notok "$label" "$(cat "$W/err" 2>/dev/null)"; fi; }

# the files of a folder with their checksums, hidden ones included
sums() { (cd "$1" && ls -A | sort | while read -r f; do echo "$f $(cksum <"$f")"; done); }
records() { grep -o '<record [^>]*status="[a-z]*"' "$1" | sed 's/.*status=//'; }

echo "1..8"

phantom() { twin-phantom -q --size 24x20x6 "$@" >"$W/err" 2>&1; }

# three phases in JPEG-LS; the second phase's pixel data is later damaged, so
# that --all-phases fails after it has written image.nii.gz and image_phase00
if ! phantom --phases 3 --ts jpeg-ls "$W/p" || ! twin-ingest -q --all-phases "$W/p/dicom" "$W/case" 2>"$W/err"; then
	notok "a first run" "$(cat "$W/err")"
	exit 0
fi
sums "$W/case/ingest" >"$W/before"
cp "$W/case/manifest.xml" "$W/manifest.before"
for i in 07 08 09 10 11 12; do
	f="$W/p/dicom/s02_000$i.dcm"
	dd if=/dev/zero of="$f" bs=1 seek=$(($(wc -c <"$f") - 150)) count=140 conv=notrunc 2>/dev/null
done
twin-ingest -q --all-phases "$W/p/dicom" "$W/case" 2>"$W/err"
rc=$?
sums "$W/case/ingest" >"$W/after"
check "a run failing in phase 1 exits 3 and names the file" \
	sh -c "[ $rc = 3 ] && grep -q \"^twin-ingest: phase 1: no slice of the series can be read: .*'.*/s02_000[0-9]*\\.dcm'\" '$W/err'"
check "the earlier outputs survive it byte for byte, and nothing is left beside them" \
	cmp -s "$W/before" "$W/after"
if [ "$(records "$W/case/manifest.xml" | tr '\n' ' ')" = '"ok" "failed" ' ] &&
   grep -q '<error code="3">phase 1: no slice of the series can be read' "$W/case/manifest.xml" &&
   head -n -1 "$W/manifest.before" >"$W/m1" && head -n "$(($(wc -l <"$W/manifest.before") - 1))" "$W/case/manifest.xml" >"$W/m2" &&
   cmp -s "$W/m1" "$W/m2"; then
	ok "the failed run is recorded after the earlier record, which is unchanged, with its code and message"
else
	notok "the failed run is recorded" "$(records "$W/case/manifest.xml")" "$(grep '<error' "$W/case/manifest.xml")"
fi

# the case folder at fault (a corrupt manifest.xml): the run fails after its
# files were renamed into place; they are put back, and nothing is recorded
if phantom --seed 2 "$W/q" && twin-ingest -q "$W/q/dicom" "$W/case2" 2>"$W/err"; then
	echo "junk" >>"$W/case2/manifest.xml"
	sums "$W/case2/ingest" >"$W/before2"
	cksum <"$W/case2/manifest.xml" >"$W/manifest2.before"
	phantom --seed 3 "$W/r"
	twin-ingest -q "$W/r/dicom" "$W/case2" 2>"$W/err"
	rc=$?
	sums "$W/case2/ingest" >"$W/after2"
	check "a corrupt manifest fails the run (exit 3) and its outputs are taken back; the manifest is left as it was" \
		sh -c "[ $rc = 3 ] && grep -q \"^twin-ingest: manifest '.*case2/manifest.xml': line\" '$W/err' &&
		       cmp -s '$W/before2' '$W/after2' && cksum <'$W/case2/manifest.xml' | cmp -s - '$W/manifest2.before'"
else
	notok "a corrupt manifest" "$(cat "$W/err")"
fi

# a case folder that did not exist before a run failing in phase 1 is not left behind
twin-ingest -q --all-phases "$W/p/dicom" "$W/case5" 2>"$W/err"
rc=$?
check "a failing run leaves no case folder it made" sh -c "[ $rc = 3 ] && [ ! -e '$W/case5' ]"

# --uncompressed: image.nii with the voxels of the truth; the earlier
# image.nii.gz and phase files go, and series.xml and the manifest name image.nii
if twin-ingest -q --all-phases "$W/q/dicom" "$W/case3" 2>"$W/err" && twin-ingest -q --uncompressed "$W/q/dicom" "$W/case3" 2>"$W/err"; then
	check "--uncompressed writes image.nii alone, named in series.xml and the manifest" \
		sh -c "[ \"\$(ls -A '$W/case3/ingest' | tr '\n' ' ')\" = 'image.nii series.xml ' ] &&
		       grep -q '<volume file=\"image.nii\"' '$W/case3/ingest/series.xml' &&
		       tail -n 5 '$W/case3/manifest.xml' | grep -q '<output path=\"ingest/image.nii\"' &&
		       twin-niicmp --voxels '$W/case3/ingest/image.nii' '$W/q/truth/image.nii.gz' >'$W/err' 2>&1 &&
		       [ \"\$(head -c 4 '$W/case3/ingest/image.nii' | od -An -tu4 | tr -d ' ')\" = 348 ]"
else
	notok "--uncompressed" "$(cat "$W/err")"
fi

# --keep-phi: the patient fields are in series.xml, and in no other output
phi="PHANTOM^PHI^TESTNAME PHI-ID-4711 19700101 PHIACC42 PHI^DOCTOR"
if twin-ingest -q --keep-phi "$W/q/dicom" "$W/case4" 2>"$W/err"; then
	missing= leaked=
	for s in $phi "PHI Test Hospital"; do
		grep -qF "$s" "$W/case4/ingest/series.xml" || missing="$missing '$s'"
		gzip -dc "$W/case4/ingest/image.nii.gz" | grep -aqF "$s" && leaked="$leaked '$s'-in-image"
		grep -qF "$s" "$W/case4/manifest.xml" && leaked="$leaked '$s'-in-manifest"
	done
	if [ -z "$missing$leaked" ] && grep -q 'patient-name="PHANTOM^PHI^TESTNAME"' "$W/case4/ingest/series.xml" &&
	   grep -q 'institution="PHI Test Hospital"' "$W/case4/ingest/series.xml"; then
		ok "--keep-phi keeps name, ID, birth date, accession, physician and institution in series.xml only"
	else
		notok "--keep-phi" "missing:$missing" "leaked:$leaked"
	fi
else
	notok "--keep-phi" "$(cat "$W/err")"
fi
found=
for s in $phi PHI; do
	grep -qF "$s" "$W/case3/ingest/series.xml" "$W/case3/manifest.xml" "$W/case3/ingest/image.nii" && found="$found '$s'"
done
check "without --keep-phi no patient field and no <identifiers> is written" \
	sh -c "[ -z \"$found\" ] && ! grep -q '<identifiers' '$W/case3/ingest/series.xml'"
