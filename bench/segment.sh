#!/bin/sh
# bench/segment: twin-segment on a clinical-size study (twin-phantom
# --clinical: 512x512x300 at 0.4x0.4x0.6 mm), wall time and peak memory from
# /usr/bin/time -v; targets under 20 s and under 3 GB on 2 cores. Prints a
# table (wall, CPU seconds of all threads, peak MB); exits 1 when a target is
# missed. On a shared machine the wall time follows the load: see the CPU
# column. For comparison, TotalSegmentator takes about 70 s on a CPU in its
# fastest mode for a study of this size.
bench=segment
. "$(dirname "$0")/lib.sh"

need twin-phantom twin-segment /usr/bin/time
twin-phantom --clinical --seed 11 "$W/study" >/dev/null || exit 1
mkdir -p "$W/case/ingest"
cp "$W/study/truth/image.nii.gz" "$W/case/ingest/image.nii.gz"

status=0
printf '%-28s %10s %10s %12s %8s\n' "run" "wall s" "cpu s" "peak MB" "target"
run() {
	label=$1
	shift
	if ! /usr/bin/time -v -o "$W/time" twin-segment -q "$@" "$W/case" >/dev/null 2>"$W/err"; then
		echo "bench/segment: $label: $(tail -n 2 "$W/err")" >&2
		status=1
		return
	fi
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }')
	cpu=$(sed -n 's/.*\(User\|System\) time (seconds): //p' "$W/time" | awk '{ s += $1 } END { printf "%.1f", s }')
	mb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time" | awk '{ printf "%.0f", $1 / 1024 }')
	verdict=$(awk -v w="$wall" -v m="$mb" 'BEGIN { print (w < 20 && m < 3072) ? "met" : "MISSED" }')
	[ "$verdict" = met ] || status=1
	printf '%-28s %10s %10s %12s %8s\n' "$label" "$wall" "$cpu" "$mb" "$verdict"
}
run "512x512x300, 1 mm grid"
exit $status
