#!/bin/sh
# make demo: a phantom study through every stage that exists so far.
set -e
bin=${TWIN_BIN:-build/bin}
out=demo
rm -rf "$out"
mkdir -p "$out"
echo "demo: generating a phantom cardiac CT study in $out/study"
"$bin/twin-phantom" --seed 1 "$out/study"
if [ -x "$bin/dcm2twin" ]; then
	"$bin/dcm2twin" "$out/study/dicom" "$out/case"
	echo "demo: the report is $out/case/report.html"
	exit 0
fi
ran=
for stage in ingest segment mesh export; do
	[ -x "$bin/twin-$stage" ] || break
	case $stage in
	ingest) "$bin/twin-ingest" "$out/study/dicom" "$out/case" ;;
	*) "$bin/twin-$stage" "$out/case" ;;
	esac
	ran="$ran twin-$stage"
done
echo "demo: DICOM series in $out/study/dicom, ground truth in $out/study/truth"
if [ -n "$ran" ]; then
	echo "demo: ran$ran into $out/case"
else
	echo "demo: no pipeline stage is built yet; open $out/study/truth/*.nii.gz in ITK-SNAP or 3D Slicer"
fi
