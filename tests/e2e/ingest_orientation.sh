#!/bin/sh
# twin-ingest against the real dcm2niix on every series of dcm_qa_orientation
# (Siemens MR mosaics acquired axial, coronal and sagittal with ascending,
# descending and interleaved slices; two volumes each, which twin-ingest
# takes as phases 0 and 1). Each volume must have the voxels of the matching
# frame of dcm2niix's 4-D file and an affine within 1e-3 mm, in world space.
# TAP; SKIP without the data or dcm2niix.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
: "${TWIN_SHARED_DATA:=$here/../../../shared/data}"
root=$TWIN_SHARED_DATA/dicom/dcm_qa_orientation/In

if [ ! -d "$root" ]; then
	echo "1..1"
	skip "dcm_qa_orientation" "shared data '$root' is absent"
	exit 0
fi
series=$(find "$root" -mindepth 2 -maxdepth 2 -type d | sort)
echo "1..$(($(echo "$series" | wc -l) * 2))"
for d in $series; do
	name=$(basename "$d")
	if ! command -v dcm2niix >/dev/null; then
		skip "$name volume 0" "dcm2niix is not installed"
		skip "$name volume 1" "dcm2niix is not installed"
		continue
	fi
	mkdir -p "$W/$name.ref"
	dcm2niix -z n -o "$W/$name.ref" -f ref "$d" >"$W/$name.log" 2>&1
	for t in 0 1; do
		rm -rf "${W:?}/$name"
		if ! twin-ingest --phase "$t" "$d" "$W/$name" 2>"$W/$name.err"; then
			notok "$name volume $t: twin-ingest failed" "$(tail -n 3 "$W/$name.err")"
		elif out=$(twin-niicmp --voxels --frame-b "$t" "$W/$name/ingest/image.nii.gz" "$W/$name.ref/ref.nii" 2>&1); then
			ok "$name volume $t equals dcm2niix ($out)"
		else
			notok "$name volume $t differs from dcm2niix" "$out"
		fi
	done
done
