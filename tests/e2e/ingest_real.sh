#!/bin/sh
# twin-ingest against the real dcm2niix on real studies from $TWIN_SHARED_DATA:
# the CTA, and the cine MRI (20 phases split by trigger time; dcm2niix writes
# them as one 4-D file, compared frame by frame). Voxels must be
# equal and the affine within 1e-3 mm, in world space. TAP; SKIP without the data.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
: "${TWIN_SHARED_DATA:=$here/../../../shared/data}"

phases=$(seq 0 19)
echo "1..21"
if ! command -v dcm2niix >/dev/null; then
	skip "real CTA" "dcm2niix is not installed"
	for t in $phases; do skip "real MRI phase $t" "dcm2niix is not installed"; done
	exit 0
fi

cta=$TWIN_SHARED_DATA/cta/ts_pulmonary_cta
if [ ! -d "$cta" ]; then
	skip "real CTA equals dcm2niix" "shared data '$cta' is absent"
else
	mkdir -p "$W/cta_ref"
	dcm2niix -z n -o "$W/cta_ref" -f ref "$cta" >"$W/cta.log" 2>&1
	if ! twin-ingest "$cta" "$W/cta" 2>"$W/cta.err"; then
		notok "real CTA: twin-ingest failed" "$(tail -n 3 "$W/cta.err")"
	elif out=$(twin-niicmp --voxels "$W/cta/ingest/image.nii.gz" "$W/cta_ref/ref.nii" 2>&1); then
		ok "real CTA equals dcm2niix ($out)"
	else
		notok "real CTA differs from dcm2niix" "$out"
	fi
fi

mri=$TWIN_SHARED_DATA/mri/sunnybrook_scd0000101
if [ ! -d "$mri" ]; then
	for t in $phases; do skip "real MRI phase $t equals dcm2niix" "shared data '$mri' is absent"; done
	exit 0
fi
mkdir -p "$W/mri_ref"
dcm2niix -z n -o "$W/mri_ref" -f ref "$mri" >"$W/mri.log" 2>&1
for t in $phases; do
	rm -rf "$W/mri"
	if ! twin-ingest --phase "$t" "$mri" "$W/mri" 2>"$W/mri.err"; then
		notok "real MRI phase $t: twin-ingest failed" "$(tail -n 3 "$W/mri.err")"
	elif out=$(twin-niicmp --voxels --frame-b "$t" "$W/mri/ingest/image.nii.gz" "$W/mri_ref/ref.nii" 2>&1); then
		ok "real MRI phase $t equals dcm2niix volume $t ($out)"
	else
		notok "real MRI phase $t differs from dcm2niix volume $t" "$out"
	fi
done
