#!/bin/sh
# workflow/Snakefile on three study folders: two small twin-phantom studies
# (different seeds) and one folder that holds no DICOM. With -j2 --keep-going
# the bad study fails alone at twin-ingest and the two others get heart.msh,
# every export folder, four ok manifest records, a log per stage and, when
# dcm2twin --report is built, a report.html (the failed one's too). A dry run
# then has nothing to do (and only the bad study's jobs when it is back), a
# changed conf (not a touched one) plans every stage again, and a partly
# failed export (exit 8) is recorded, not failed, unless partial=fail. The
# Slurm command line of the README submits a job, with the rule's account,
# partition, threads, memory and runtime, to a fake sbatch that runs it.
# Debian's /usr/bin/snakemake (a pyenv python3 on PATH lacks its modules), or
# TWIN_SNAKEMAKE; a visible SKIP without it. TAP.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
TWIN_BIN=$(cd "$TWIN_BIN" && pwd)
SNAKEFILE=$here/../../workflow/Snakefile
XSD=$here/../../common/manifest.xsd
SNAKEMAKE=${TWIN_SNAKEMAKE:-/usr/bin/snakemake}

TESTS="the bad study fails alone|two cases get heart.msh and every export folder|four ok manifest records each|a log per stage and case|a report per case|a dry run has nothing to do|a dry run plans only the failed study|a changed conf reruns every stage|a partial export is recorded|partial=fail fails the export|a job on a fake Slurm"
echo "1..11"

if [ ! -x "$SNAKEMAKE" ]; then
	IFS='|'
	for t in $TESTS; do skip "$t" "$SNAKEMAKE is absent (Debian's snakemake)"; done
	exit 0
fi

# snakemake ... : the batch run with this test's folders; .snakemake/ goes to $W
snk() {
	"$SNAKEMAKE" -s "$SNAKEFILE" -d "$W" -j2 "$@" \
		--config studies="$W/studies" cases="$W/cases" conf="$W/pipeline.conf" bin="$TWIN_BIN"
}

mkdir -p "$W/studies/bad"
for seed in 3 4; do
	if ! twin-phantom -q --size 64x64x48 --spacing 2,2,2 --seed $seed "$W/p$seed" >"$W/phantom.log" 2>&1; then
		echo "Bail out! twin-phantom failed: $(tail -n 2 "$W/phantom.log")"
		exit 1
	fi
	mv "$W/p$seed/dicom" "$W/studies/seed$seed"
done
echo "not a DICOM file" >"$W/studies/bad/notes.txt"
printf '[mesh]\nsize = 3\n' >"$W/pipeline.conf"

# --- Slurm, in the background: the README's command line with sbatch, sacct and
# srun faked, for one twin-ingest job into a cases folder and a working folder
# of its own (Snakemake 7.21 asks sacct about its jobs every 33 s, so this
# waits more than it works)
mkdir "$W/slurm"
cat >"$W/slurm/sbatch" <<'EOF'
#!/bin/sh
# a fake sbatch: logs its arguments, runs --wrap before it returns (so that
# the first sacct finds the job done)
d=$(dirname "$0")
mkdir -p "$d/jobs"
id=$(($(cat "$d/jobs/last" 2>/dev/null || echo 1000) + 1))
echo $id >"$d/jobs/last"
: >"$d/jobs/$id"
printf '%s\n' "$*" >>"$d/sbatch.log"
for a in "$@"; do case $a in --wrap=*) wrap=${a#--wrap=} ;; esac; done
sh -c "$wrap" >"$d/jobs/$id.out" 2>&1
echo $? >"$d/jobs/$id"
echo "Submitted batch job $id"
EOF
cat >"$W/slurm/sacct" <<'EOF'
#!/bin/sh
# a fake sacct -P -n --format=JobIdRaw,State -j ID
d=$(dirname "$0")
for a in "$@"; do id=$a; done
case $(cat "$d/jobs/$id" 2>/dev/null) in
'') echo "$id|RUNNING" ;;
0) echo "$id|COMPLETED" ;;
*) echo "$id|FAILED" ;;
esac
EOF
printf '#!/bin/sh\necho acct\n' >"$W/slurm/sacctmgr"
printf '#!/bin/sh\n# a fake srun -n1 --cpu-bind=q CMD...\nshift 2\nexec "$@"\n' >"$W/slurm/srun"
chmod +x "$W/slurm/"*
mkdir "$W/slurmwd"
USER=${USER:-$(id -un)} PATH="$W/slurm:$PATH" "$SNAKEMAKE" -s "$SNAKEFILE" -d "$W/slurmwd" "$W/slurmcases/seed3/ingest/image.nii.gz" \
	--slurm -j 10 --keep-going --latency-wait 60 \
	--default-resources slurm_account=acct slurm_partition=short \
	--config studies="$W/studies" cases="$W/slurmcases" conf="$W/pipeline.conf" bin="$TWIN_BIN" >"$W/slurm.log" 2>&1 &
slurm_pid=$!

# --- one batch run over the three studies -----------------------------------------
snk --keep-going >"$W/run.log" 2>&1
rc=$?
why=
[ $rc -eq 0 ] && why="snakemake exited 0"
grep -q 'Error in rule ingest' "$W/run.log" || why="$why; no failed ingest in the log"
grep -q 'no DICOM images' "$W/cases/bad/logs/ingest.log" 2>/dev/null ||
	why="$why; cases/bad/logs/ingest.log does not say why: $(cat "$W/cases/bad/logs/ingest.log" 2>&1)"
[ -e "$W/cases/bad/ingest/image.nii.gz" ] && why="$why; the bad study has an image"
[ -e "$W/cases/bad/logs/segment.log" ] && why="$why; twin-segment ran on the bad study"
[ "$(grep -c 'Error in rule' "$W/run.log")" = 1 ] || why="$why; not exactly one job failed"
check "the non-DICOM study fails alone at twin-ingest, snakemake exits non-zero" "$why"

why=
for c in seed3 seed4; do
	[ -s "$W/cases/$c/mesh/heart.msh" ] || why="$why; $c has no heart.msh"
	for t in vtu svmp abaqus febio opencarp openfoam xdmf msh22; do
		[ -s "$W/cases/$c/export/$t/README.txt" ] || why="$why; $c has no export/$t"
	done
	[ "$(cat "$W/cases/$c/logs/export.status" 2>/dev/null)" = ok ] || why="$why; $c: export.status is not ok"
done
[ -n "$why" ] && why="$why; $(grep -i error "$W/run.log" | head -n 3)"
check "both phantom studies get heart.msh and every export folder" "$why"

why=
for c in seed3 seed4; do
	m=$W/cases/$c/manifest.xml
	got=$(grep -o '<record program="[^"]*"[^>]*status="[^"]*"' "$m" 2>/dev/null |
		sed 's/<record program="\([^"]*\)".*status="\([^"]*\)"/\1:\2/' | tr '\n' ' ')
	[ "$got" = "twin-ingest:ok twin-segment:ok twin-mesh:ok twin-export:ok " ] || why="$why; $c: $got"
	xmllint --noout --schema "$XSD" "$m" 2>/dev/null || why="$why; $c: manifest.xml is not valid"
done
check "each manifest has four ok records in stage order and is valid" "$why"

why=
for c in seed3 seed4; do
	for s in ingest segment mesh export; do
		[ -f "$W/cases/$c/logs/$s.log" ] || why="$why; no $c/logs/$s.log"
	done
done
grep -q 'heart_myocardium\|LV myocardium' "$W/cases/seed3/logs/segment.log" 2>/dev/null ||
	why="$why; segment.log lacks twin-segment's volume table"
check "a log per stage and case under CASE/logs" "$why"

# the Snakefile adds a report job per case when dcm2twin has --report
if "$TWIN_BIN/dcm2twin" --help 2>/dev/null | grep -q -- '--report'; then
	R=1
	why=
	for c in seed3 seed4 bad; do
		[ -s "$W/cases/$c/report.html" ] || why="$why; no $c/report.html: $(tail -n 1 "$W/cases/$c/logs/report.log" 2>&1)"
	done
	grep -q 'bad failed; its report is' "$W/run.log" || why="$why; the run does not name the failed case's report"
	grep -q 'no DICOM images' "$W/cases/bad/report.html" 2>/dev/null || why="$why; the failed case's report lacks twin-ingest's error"
	check "a report.html per case; the failed one's, written at the end of the run, shows the error" "$why"
else
	R=0
	skip "a report.html per case" "dcm2twin --report is not built"
fi

# --- what a rerun would do ------------------------------------------------------
mv "$W/studies/bad" "$W/bad"
snk -n >"$W/dry.log" 2>&1
why=
grep -q 'Nothing to be done' "$W/dry.log" || why="$(grep -v '^$' "$W/dry.log" | head -n 8 | tr '\n' ' ')"
check "a second run (-n) has nothing to do" "$why"

mv "$W/bad" "$W/studies/bad"
snk -n --quiet >"$W/dry.log" 2>&1
why=$(awk -v r=$R '$1 ~ /^(ingest|segment|mesh|export|report)$/ && $2 != 1 { print $1 " " $2 " jobs" }
	$1 == "total" { total = $2 } END { if (total != 5 + r) print "total " total " jobs, not " 5 + r }' "$W/dry.log")
[ -n "$why" ] && why="$why: $(grep -v '^$' "$W/dry.log" | head -n 12 | tr '\n' '|')"
check "with the bad study back, a dry run plans that study's jobs only" "$why"
rm -rf "$W/studies/bad"

# Snakemake compares content, not only times: a touched file that is the same plans nothing
touch "$W/pipeline.conf"
snk -n >"$W/dry.log" 2>&1
touched=
grep -q 'Nothing to be done' "$W/dry.log" || touched="; a touched pipeline.conf plans jobs"
printf '[mesh]\nsize = 3.5\n' >"$W/pipeline.conf"
snk -n --quiet >"$W/dry.log" 2>&1
why=$(awk -v r=$R '$1 ~ /^(ingest|segment|mesh|export|report)$/ && $2 != 2 { print $1 " " $2 " jobs" }
	$1 == "total" { total = $2 } END { if (total != 9 + 2 * r) print "total " total " jobs, not " 9 + 2 * r }' "$W/dry.log")
[ -n "$why" ] && why="$why: $(grep -v '^$' "$W/dry.log" | head -n 12 | tr '\n' '|')"
check "a changed pipeline.conf plans every stage of both cases again (a touched one nothing)" "$why$touched"
printf '[mesh]\nsize = 3\n' >"$W/pipeline.conf"

# --- a partly failed export (exit 8) ----------------------------------------------
# twin-export in a folder of its own that writes its targets, then says one
# failed, as the real one does for a mesh without an inlet
mkdir "$W/bin8"
for p in twin-ingest twin-segment twin-mesh; do ln -s "$TWIN_BIN/$p" "$W/bin8/$p"; done
cat >"$W/bin8/twin-export" <<EOF
#!/bin/sh
"$TWIN_BIN/twin-export" "\$@" || exit \$?
echo "twin-export: 1 of 8 targets failed (openfoam); the others are in 'export'" >&2
exit 8
EOF
chmod +x "$W/bin8/twin-export"
touch "$W/cases/seed3/mesh/heart.msh" "$W/cases/seed4/mesh/heart.msh"
"$SNAKEMAKE" -s "$SNAKEFILE" -d "$W" -j2 "$W/cases/seed3/logs/export.status" --rerun-triggers mtime \
	--config studies="$W/studies" cases="$W/cases" conf="$W/pipeline.conf" bin="$W/bin8" >"$W/p8.log" 2>&1
rc=$?
why=
[ $rc -eq 0 ] || why="snakemake exited $rc: $(grep -i error "$W/p8.log" | head -n 3)"
[ "$(head -n 1 "$W/cases/seed3/logs/export.status" 2>/dev/null)" = partial ] || why="$why; export.status does not say partial"
grep -q '1 of 8 targets failed' "$W/cases/seed3/logs/export.status" 2>/dev/null || why="$why; export.status lacks the message"
grep -q 'export partly failed in 1 of 2 cases (seed3)' "$W/p8.log" || why="$why; no summary of the partial exports"
check "exit 8 of twin-export is recorded in export.status and the run succeeds" "$why"

"$SNAKEMAKE" -s "$SNAKEFILE" -d "$W" -j2 "$W/cases/seed4/logs/export.status" --rerun-triggers mtime \
	--config studies="$W/studies" cases="$W/cases" conf="$W/pipeline.conf" bin="$W/bin8" partial=fail >"$W/p8.log" 2>&1
rc=$?
why=
[ $rc -eq 0 ] && why="snakemake exited 0"
[ -e "$W/cases/seed4/logs/export.status" ] && why="$why; export.status is left"
check "with partial=fail, exit 8 fails the export job" "$why"

# --- the Slurm run started at the beginning -----------------------------------------
wait $slurm_pid
rc=$?
why=
[ $rc -eq 0 ] || why="snakemake exited $rc: $(grep -v '^ *$' "$W/slurm.log" | tail -n 4 | tr '\n' '|')"
args=$(sed 's/ --wrap=.*//' "$W/slurm/sbatch.log" 2>/dev/null)
for a in "-J snakejob_ingest_" "-A acct" "-p short" "-t 10" "--mem 1000" "--cpus-per-task=2"; do
	case $args in *"$a"*) ;; *) why="$why; sbatch lacks '$a': $args" ;; esac
done
[ "$(grep -c . "$W/slurm/sbatch.log" 2>/dev/null)" = 1 ] || why="$why; not one sbatch call"
[ -s "$W/slurmcases/seed3/ingest/image.nii.gz" ] || why="$why; no image.nii.gz"
check "the README's --slurm command line: one sbatch with the rule's account, partition, runtime, memory, threads" "$why"
