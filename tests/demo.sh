#!/bin/sh
# make demo: a phantom study through every stage that exists so far.
bin=${TWIN_BIN:-build/bin}
out=demo
rm -rf "$out"
mkdir -p "$out"
echo "demo: generating a phantom cardiac CT study in $out/study"
"$bin/twin-phantom" --seed 1 "$out/study" || exit $?
if [ -x "$bin/dcm2twin" ]; then
	rc=0
	"$bin/dcm2twin" "$out/study/dicom" "$out/case" || rc=$?
	# exit 8: the case is complete but for the export targets that failed, said above
	if [ $rc -eq 8 ]; then
		echo "demo: some export targets failed (see twin-export's warnings above); the others are in $out/case/export"
	elif [ $rc -ne 0 ]; then
		echo "demo: dcm2twin failed with exit code $rc" >&2
		exit $rc
	fi
	echo "demo: the report is $out/case/report.html"
	exit 0
fi
ran=
partial=
for stage in ingest segment mesh export; do
	[ -x "$bin/twin-$stage" ] || break
	rc=0
	case $stage in
	ingest) "$bin/twin-ingest" "$out/study/dicom" "$out/case" || rc=$? ;;
	*) "$bin/twin-$stage" "$out/case" || rc=$? ;;
	esac
	# exit 8: some export targets failed, said above; the others are written
	if [ $rc -eq 8 ]; then
		partial="$partial twin-$stage"
	elif [ $rc -ne 0 ]; then
		echo "demo: twin-$stage failed with exit code $rc" >&2
		exit $rc
	fi
	ran="$ran twin-$stage"
done
echo "demo: DICOM series in $out/study/dicom, ground truth in $out/study/truth"
if [ -n "$ran" ]; then
	echo "demo: ran$ran into $out/case"
	if [ -n "$partial" ]; then
		echo "demo: not every output of$partial could be written: see the warnings above"
	fi
else
	echo "demo: no pipeline stage is built yet; open $out/study/truth/*.nii.gz in ITK-SNAP or 3D Slicer"
fi
exit 0
