#!/bin/sh
# twin-ingest speed and memory against dcm2niix on a 512x512x300 CT series
# (twin-phantom --clinical). In the same run, interleaved, best of
# $INGEST_BENCH_ROUNDS (3): twin-ingest --uncompressed against dcm2niix -z n,
# and twin-ingest (.nii.gz) against dcm2niix -z y, with the peak resident
# memory and the CPU time (user + system) of each from /usr/bin/time -v.
# Targets: uncompressed wall time no more than dcm2niix's; .nii.gz wall
# time no more than half of dcm2niix -z y's; peak memory no more than twice
# the volume (512*512*300 int16). The volumes written must be equal to
# dcm2niix's. Prints a table; exit 1 when a target is missed.
# INGEST_BENCH_STUDY=DIR reuses a study made by twin-phantom.
bench=ingest
. "$(dirname "$0")/lib.sh"
: "${INGEST_BENCH_ROUNDS:=3}"

need twin-ingest twin-phantom twin-niicmp dcm2niix /usr/bin/time
study=${INGEST_BENCH_STUDY:-$W/study}
clinical_study "$study"

# one NAME CMD...: runs CMD into a fresh $W/out.NAME, appends "NAME wall peak_kib cpu" to $W/times
one() {
	name=$1
	shift
	rm -rf "$W/out.$name"
	mkdir -p "$W/out.$name"
	# dcm2niix leaves its output to be written back: no run pays for the one before
	sync
	t0=$(date +%s.%N)
	if ! /usr/bin/time -v -o "$W/time.$name" "$@" >"$W/log.$name" 2>&1; then
		echo "bench/ingest: $name failed: $(tail -n 3 "$W/log.$name")" >&2
		exit 1
	fi
	t1=$(date +%s.%N)
	peak=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$W/time.$name")
	cpu=$(awk -F': *' '/User time|System time/ { s += $2 } END { printf "%.3f", s }' "$W/time.$name")
	echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $peak $cpu" >>"$W/times"
}

: >"$W/times"
r=0
while [ "$r" -lt "$INGEST_BENCH_ROUNDS" ]; do
	r=$((r + 1))
	one ingest_nii twin-ingest -q --uncompressed "$study/dicom" "$W/out.ingest_nii"
	one dcm2niix_n dcm2niix -z n -f image -o "$W/out.dcm2niix_n" "$study/dicom"
	one ingest_gz twin-ingest -q "$study/dicom" "$W/out.ingest_gz"
	one dcm2niix_y dcm2niix -z y -f image -o "$W/out.dcm2niix_y" "$study/dicom"
done

# the same voxels in the same place as dcm2niix, both ways
for pair in "ingest_nii/ingest/image.nii dcm2niix_n/image.nii" "ingest_gz/ingest/image.nii.gz dcm2niix_y/image.nii.gz"; do
	set -- $pair
	if ! out=$(twin-niicmp --voxels "$W/out.$1" "$W/out.$2" 2>&1); then
		echo "bench/ingest: out.$1 differs from out.$2: $out" >&2
		exit 1
	fi
done

# the times depend on what else runs: say how busy the machine was
echo "bench/ingest: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(getconf _NPROCESSORS_ONLN) CPUs, best of $INGEST_BENCH_ROUNDS"
awk -v vol=$((512 * 512 * 300 * 2)) '
	{
		if (!($1 in best) || $2 < best[$1]) best[$1] = $2
		if (!($1 in cpu) || $4 < cpu[$1]) cpu[$1] = $4
		kb = $3 * 1024 / 1e6
		if (kb > peak[$1]) peak[$1] = kb
	}
	function row(tool, mode, name, target, verdict) {
		printf "%-12s %-8s %7.2f %6.2f %8.0f  %-32s %s\n", tool, mode, best[name], cpu[name], peak[name],
		       target, verdict
	}
	function judge(ok) {
		if (!ok)
			missed++
		return ok ? "ok" : "MISSED"
	}
	END {
		limit = 2 * vol / 1e6
		printf "%-12s %-8s %7s %6s %8s  %-32s %s\n", "tool", "mode", "wall s", "cpu s", "peak MB", "target",
		       "verdict"
		row("twin-ingest", ".nii", "ingest_nii",
		    sprintf("wall <= %.2f, peak <= %.0f", best["dcm2niix_n"], limit),
		    judge(best["ingest_nii"] <= best["dcm2niix_n"] && peak["ingest_nii"] <= limit))
		row("dcm2niix", "-z n", "dcm2niix_n", "-", "-")
		row("twin-ingest", ".nii.gz", "ingest_gz",
		    sprintf("wall <= %.2f, peak <= %.0f", best["dcm2niix_y"] / 2, limit),
		    judge(best["ingest_gz"] <= best["dcm2niix_y"] / 2 && peak["ingest_gz"] <= limit))
		row("dcm2niix", "-z y", "dcm2niix_y", "-", "-")
		exit missed ? 1 : 0
	}' "$W/times"
