#!/bin/sh
# make demo: a phantom study through dcm2twin into demo/case.
bin=${TWIN_BIN:-build/bin}
out=demo
rm -rf "$out"
mkdir -p "$out"
echo "demo: generating a phantom cardiac CT study in $out/study"
"$bin/twin-phantom" --seed 1 "$out/study" || exit $?
rc=0
"$bin/dcm2twin" "$out/study/dicom" "$out/case" || rc=$?
# exit 8: the case is complete but for the export targets that failed, said above
if [ $rc -eq 8 ]; then
	echo "demo: some export targets failed (see twin-export's warnings above); the others are in $out/case/export"
elif [ $rc -ne 0 ]; then
	echo "demo: dcm2twin failed with exit code $rc" >&2
	exit $rc
fi
echo "demo: DICOM series in $out/study/dicom, ground truth in $out/study/truth"
echo "demo: the report is $out/case/report.html"
