#!/bin/sh
# twin-ingest on twin-phantom studies: the volume written must equal
# truth/image.nii.gz in world space (every voxel, affine within 1e-3 mm),
# whatever the orientation, file order, layout or transfer syntax; the
# default choices (main series, 75 % phase) and the privacy rule hold. TAP.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"

# phantom NAME ARGS...: a study in $W/NAME, converted into $W/NAME/case
convert() {
	name=$1
	shift
	rm -rf "${W:?}/$name"
	if ! twin-phantom --size 40x36x24 --spacing 1.5,1.25,2 "$@" "$W/$name" >"$W/$name.log" 2>&1; then
		notok "$name: twin-phantom $*" "$(tail -n 2 "$W/$name.log")"
		return 1
	fi
	return 0
}

# same NAME LABEL [twin-ingest options]: converts and compares with the truth
same() {
	name=$1 label=$2
	shift 2
	if ! twin-ingest "$@" "$W/$name/dicom" "$W/$name/case" 2>"$W/$name.err"; then
		notok "$label: twin-ingest failed" "$(tail -n 3 "$W/$name.err")"
		return
	fi
	if out=$(twin-niicmp --voxels "$W/$name/case/ingest/image.nii.gz" "$W/$name/truth/image.nii.gz" 2>&1); then
		ok "$label"
	else
		notok "$label: differs from the truth" "$out"
	fi
}

tests="axial coronal sagittal oblique shuffled multiframe localizer ts_implicit ts_bigendian ts_deflate ts_rle ts_jpeg-lossless ts_jpeg-ls phase_default phase_all privacy list dicomdir tilt"
echo "1..$(echo $tests | wc -w)"

for o in axial coronal sagittal oblique; do
	convert "$o" --orientation "$o" && same "$o" "$o study equals the truth"
done
convert shuffled --orientation oblique --shuffle && same shuffled "shuffled files are sorted along the normal"
convert multiframe --multiframe --phases 3 && same multiframe "an enhanced multi-frame file with 3 phases, phase 0" --phase 0
convert localizer --localizer --extra-series && same localizer "the main series is chosen over a localizer and a thick extra series"
for ts in implicit bigendian deflate rle jpeg-lossless jpeg-ls; do
	convert "ts_$ts" --ts "$ts" && same "ts_$ts" "transfer syntax $ts"
done

# four phases at 0, 25, 50 and 75 %: the default is 75 %; phase 0 is the truth image
if convert phases --phases 4; then
	if twin-ingest "$W/phases/dicom" "$W/phases/case" 2>"$W/phases.err" &&
	   grep -q 'percent="75"' "$W/phases/case/ingest/series.xml" &&
	   ! twin-niicmp --voxels "$W/phases/case/ingest/image.nii.gz" "$W/phases/truth/image.nii.gz" >/dev/null 2>&1; then
		ok "the 75 % phase is the default"
	else
		notok "the 75 % phase is the default" "$(cat "$W/phases.err")" "$(grep volume "$W/phases/case/ingest/series.xml")"
	fi
	rm -rf "$W/phases/case"
	if twin-ingest --all-phases "$W/phases/dicom" "$W/phases/case" 2>"$W/phases.err" &&
	   twin-niicmp --voxels "$W/phases/case/ingest/image_phase00.nii.gz" "$W/phases/truth/image.nii.gz" >/dev/null &&
	   [ -s "$W/phases/case/ingest/image_phase03.nii.gz" ] && [ ! -e "$W/phases/case/ingest/image_phase04.nii.gz" ] &&
	   cmp -s "$W/phases/case/ingest/image_phase03.nii.gz" "$W/phases/case/ingest/image.nii.gz"; then
		ok "--all-phases writes one volume per phase"
	else
		notok "--all-phases writes one volume per phase" "$(cat "$W/phases.err")" "$(ls "$W/phases/case/ingest")"
	fi
else
	notok "--all-phases writes one volume per phase" "no study"
fi

# privacy: the phantom's PHI strings are in the DICOM files and in no output
# (every file of the case folder, .gz ones decompressed)
f=$(ls "$W/axial/dicom" | head -n 1)
found=
for s in PHANTOM^PHI^TESTNAME PHI-ID-4711 19700101 PHIACC42 PHI^DOCTOR "PHI Test Hospital"; do
	grep -aqF "$s" "$W/axial/dicom/$f" || found="$found input-lacks:'$s'"
	for out in $(find "$W/axial/case" -type f); do
		case $out in
		*.gz) gzip -dc "$out" | grep -aqF "$s" && found="$found '$s'-in-$(basename "$out")" ;;
		*) grep -aqF "$s" "$out" && found="$found '$s'-in-$(basename "$out")" ;;
		esac
	done
done
if [ -z "$found" ] && [ -s "$W/axial/case/manifest.xml" ] && [ -s "$W/axial/case/ingest/image.nii.gz" ] &&
   grep -q 'uid="h:[0-9a-f]\{16\}"' "$W/axial/case/ingest/series.xml"; then
	ok "no patient data in image.nii.gz, series.xml or manifest.xml; UIDs hashed"
else
	notok "privacy" "$found"
fi

# --list: one row per series with its skip reason, and nothing written
if out=$(twin-ingest --list "$W/localizer/dicom" 2>&1) &&
   [ "$(echo "$out" | grep -c localizer)" -ge 2 ] && echo "$out" | grep -q '^2 .* CT ' &&
   echo "$out" | grep -q 'h:[0-9a-f]\{16\}' && [ ! -e "$W/localizer/dicom/ingest" ]; then
	ok "--list shows every series with why it would be skipped"
else
	notok "--list" "$out"
fi

# a DICOMDIR made by dcmmkdir over a folder tree, with a hidden file beside it
if convert dicomdir; then
	mkdir -p "$W/dicomdir/media/STUDY/SERIES"
	i=0
	for f in "$W/dicomdir/dicom"/*.dcm; do
		i=$((i + 1))
		cp "$f" "$W/dicomdir/media/STUDY/SERIES/IM$i"
	done
	echo junk >"$W/dicomdir/media/STUDY/.hidden"
	if (cd "$W/dicomdir/media" && dcmmkdir +r STUDY >"$W/dicomdir.log" 2>&1) &&
	   twin-ingest "$W/dicomdir/media/DICOMDIR" "$W/dicomdir/case" 2>"$W/dicomdir.err" &&
	   out=$(twin-niicmp --voxels "$W/dicomdir/case/ingest/image.nii.gz" "$W/dicomdir/truth/image.nii.gz" 2>&1) &&
	   ! grep -q warning "$W/dicomdir.err"; then
		ok "a DICOMDIR is read through its folder tree"
	else
		notok "DICOMDIR" "$(cat "$W/dicomdir.log" "$W/dicomdir.err")" "$out"
	fi
fi

# gantry tilt: corrected to an orthogonal grid, and series.xml says so; every
# voxel inside the tilted stack equals the truth interpolated at its position
# (an independent trilinear interpolation, in Python)
tiltcheck() {
	python3 - "$1" "$2" <<'PY'
import gzip, struct, sys

def load(path):
    b = gzip.open(path).read()
    dim = struct.unpack('<8h', b[40:56])[1:4]
    dt = struct.unpack('<h', b[70:72])[0]
    off = int(struct.unpack('<f', b[108:112])[0])
    rows = [struct.unpack('<4f', b[280 + 16 * r:296 + 16 * r]) for r in range(3)]
    fmt = {4: 'h', 16: 'f'}[dt]
    n = dim[0] * dim[1] * dim[2]
    return dim, rows, struct.unpack('<%d%s' % (n, fmt), b[off:off + n * struct.calcsize(fmt)])

def inverse(m):
    a = [list(r[:3]) for r in m]
    t = [r[3] for r in m]
    det = (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
           + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]))
    inv = [[(a[(j + 1) % 3][(i + 1) % 3] * a[(j + 2) % 3][(i + 2) % 3]
             - a[(j + 1) % 3][(i + 2) % 3] * a[(j + 2) % 3][(i + 1) % 3]) / det for j in range(3)] for i in range(3)]
    return inv, t

od, orow, ov = load(sys.argv[1])
td, trow, tv = load(sys.argv[2])
inv, t = inverse(trow)
inside = worst = 0
for k in range(od[2]):
    for j in range(od[1]):
        for i in range(od[0]):
            w = [orow[r][0] * i + orow[r][1] * j + orow[r][2] * k + orow[r][3] - t[r] for r in range(3)]
            c = [sum(inv[r][q] * w[q] for q in range(3)) for r in range(3)]
            if any(c[a] < 1e-6 or c[a] > td[a] - 1 - 1e-6 for a in range(3)):
                continue
            base = [int(x) for x in c]
            f = [c[a] - base[a] for a in range(3)]
            val = 0.0
            for corner in range(8):
                d = [(corner >> a) & 1 for a in range(3)]
                wgt = 1.0
                for a in range(3):
                    wgt *= f[a] if d[a] else 1 - f[a]
                if wgt:
                    x, y, z = (base[a] + d[a] for a in range(3))
                    val += wgt * tv[x + td[0] * (y + td[1] * z)]
            inside += 1
            worst = max(worst, abs(ov[i + od[0] * (j + od[1] * k)] - val))
total = od[0] * od[1] * od[2]
print('%d of %d voxels inside the tilted stack, largest difference %.3f' % (inside, total, worst))
sys.exit(0 if inside > total // 2 and worst <= 0.5 + 1e-3 else 1)
PY
}
if convert tilt --tilt 12; then
	if twin-ingest "$W/tilt/dicom" "$W/tilt/case" 2>"$W/tilt.err" &&
	   grep -q 'tilt-corrected="true"' "$W/tilt/case/ingest/series.xml" &&
	   grep -q 'tilt-degrees="12.0' "$W/tilt/case/ingest/series.xml" &&
	   grep -q '<note>image.nii.gz: gantry tilt of 12.00 degrees' "$W/tilt/case/ingest/series.xml" &&
	   out=$(tiltcheck "$W/tilt/case/ingest/image.nii.gz" "$W/tilt/truth/image.nii.gz" 2>&1); then
		ok "gantry tilt is detected and resampled to an orthogonal grid ($out)"
	else
		notok "gantry tilt" "$(cat "$W/tilt.err")" "$(grep -i tilt "$W/tilt/case/ingest/series.xml")" "$out"
	fi
fi
