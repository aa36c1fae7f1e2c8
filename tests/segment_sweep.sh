#!/bin/sh
# tests/segment_sweep.sh: twin-segment against the truth of many twin-phantom
# studies, to find the seeds on which the method breaks. Neither make check
# nor make bench runs it (tests/e2e/segment_phantom.sh holds a few of these
# studies); run it by hand after a change to segment/heart.c. It runs
# seeds 1-16 x {CT, MR} x {axial, oblique} x {default noise,
# twice the default} (128 studies, 96x96x72 at 2 mm as in
# tests/e2e/segment_phantom.sh, a 1.5 mm working grid), two at a time; about
# 6 min on two idle cores. Prints one line per study (Dice of labels 1..7)
# and the failing ones again at the end: a blood pool under 0.90, the LV wall
# under 0.80, or twin-segment failing. Exits 1 when any study fails.
#
#   tests/segment_sweep.sh [SEEDS [MODALITIES [ORIENTATIONS [NOISES]]]]
#   e.g. tests/segment_sweep.sh "10 11" mr "axial oblique" "1 2"
#
# NOISES are multiples of twin-phantom's default noise (15 HU CT, 20 MR).
# TWIN_BIN names the binaries; TWIN_SWEEP_KEEP=DIR keeps the studies and
# the cases (with their QC pictures) there; TWIN_SWEEP_JOBS (default 2).
here=$(cd "$(dirname "$0")" && pwd)
: "${TWIN_BIN:=$here/../build/bin}"
PATH="$TWIN_BIN:$PATH"
export PATH
seeds=${1:-"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"}
mods=${2:-"ct mr"}
orients=${3:-"axial oblique"}
noises=${4:-"1 2"}
jobs=${TWIN_SWEEP_JOBS:-2}
if [ -n "$TWIN_SWEEP_KEEP" ]; then
	W=$TWIN_SWEEP_KEEP
	mkdir -p "$W" || exit 1
else
	W=$(mktemp -d)
	trap 'rm -rf "$W"' EXIT
fi

cat >"$W/dice.py" <<'PYEOF'
import sys
import numpy as np
import nibabel as nib
a = np.asarray(nib.load(sys.argv[1]).dataobj).astype(np.int64)
b = np.asarray(nib.load(sys.argv[2]).dataobj).astype(np.int64)
out, bad = [], 0
for i in range(1, 8):
    d = 2.0 * ((a == i) & (b == i)).sum() / max(1, (a == i).sum() + (b == i).sum())
    out.append("%.3f" % d)
    bad += d < (0.80 if i == 1 else 0.90)
print(" ".join(out) + ("  FAIL" if bad else ""))
PYEOF

# one W MOD ORIENT NOISE SEED: one study, one line
cat >"$W/one.sh" <<'EOF'
W=$1 mod=$2 orient=$3 k=$4 seed=$5
if [ "$mod" = ct ]; then sigma=$((15 * k)); else sigma=$((20 * k)); fi
name=$mod-$orient-n$sigma-s$seed
d=$W/$name
if ! twin-phantom -q --size 96x96x72 --spacing 2,2,2 --modality "$mod" --orientation "$orient" \
	--noise "$sigma" --seed "$seed" "$d" >"$d.log" 2>&1; then
	printf '%-24s phantom failed\n' "$name"
	exit 0
fi
rm -rf "$d/dicom"
if ! twin-segment -q --set segment.spacing=1.5 --image "$d/truth/image.nii.gz" "$d/case" >"$d.out" 2>"$d.err"; then
	printf '%-24s segment failed: %s  FAIL\n' "$name" "$(tail -n 1 "$d.err")"
else
	printf '%-24s %s\n' "$name" "$(/usr/bin/python3 "$W/dice.py" "$d/case/segment/labels.nii.gz" "$d/truth/labels.nii.gz" 2>&1)"
fi
[ -n "$TWIN_SWEEP_KEEP" ] || rm -rf "$d" "$d.log" "$d.out" "$d.err"
EOF

printf '%-24s %5s %5s %5s %5s %5s %5s %5s\n' study myo LA LV RA RV aorta PA
for s in $seeds; do
	for m in $mods; do
		for o in $orients; do
			for k in $noises; do
				echo "$m $o $k $s"
			done
		done
	done
done | xargs -P "$jobs" -L 1 sh "$W/one.sh" "$W" | tee "$W/all.txt"
nfail=$(grep -c 'FAIL' "$W/all.txt")
echo "# $nfail of $(wc -l <"$W/all.txt") studies fail"
grep 'FAIL' "$W/all.txt" | sed 's/^/# /'
[ "$nfail" = 0 ]
