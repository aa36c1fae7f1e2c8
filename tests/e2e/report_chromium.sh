#!/bin/sh
# report.html of a real small case in headless Chromium: a phantom study run
# through the four stages, the report written (dcm2twin --report, or the
# twin-report tool until the driver has it), then opened in Chromium, which
# must load every picture of the page and draw a page that is not blank. The
# check is shown to fail when a picture is missing. Also a case where only
# twin-ingest ran, and a corrupt quality.xml. TAP.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"

TESTS="a phantom study through the four stages
the report is written, well-formed, with the mesh pictures
Chromium loads every picture of the page
the check fails when a picture is missing
a screenshot of the page is a PNG that is not blank
a case where only twin-ingest ran: the later stages are shown as not run
a corrupt quality.xml stops the report with exit 3, naming the file"
echo "1..$(echo "$TESTS" | wc -l)"
skip_rest() { echo "$TESTS" | tail -n +$((n + 1)) | while read -r t; do n=$((n + 1)); echo "ok $n - $t # SKIP $1"; done; exit 0; }

CHROMIUM=$(command -v chromium || command -v chromium-browser)
[ -n "$CHROMIUM" ] || skip_rest "chromium absent"

# The report writer: the driver once it has --report, else the test tool.
if command -v dcm2twin >/dev/null 2>&1 && dcm2twin --help 2>&1 | grep -q -- '--report'; then
	report() { dcm2twin --report "$1"; }
elif command -v twin-report >/dev/null 2>&1; then
	report() { twin-report "$1"; }
else
	skip_rest "neither dcm2twin --report nor twin-report is built"
fi

# chrome FILE ARGS...: headless Chromium on FILE with a profile of its own.
chrome() {
	f=$1
	shift
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$W/profile" --allow-file-access-from-files "$@" "file://$f" 2>>"$W/chrome.log"
}

# pictures CASE: "IMAGES n BROKEN k src..." from a page beside report.html that
# loads it in a frame and asks each <img> whether it loaded.
pictures() {
	cat >"$1/check-pictures.html" <<'EOF'
<!DOCTYPE html>
<html><body>
<iframe id="r" src="report.html" width="1200" height="900"></iframe>
<pre id="out">PENDING</pre>
<script>
document.getElementById('r').onload = function () {
	var out = document.getElementById('out'), imgs, bad = [], i;
	try {
		imgs = this.contentDocument.images;
	} catch (e) {
		out.textContent = 'NO ACCESS ' + e;
		return;
	}
	for (i = 0; i < imgs.length; i++)
		if (!imgs[i].complete || imgs[i].naturalWidth === 0)
			bad.push(imgs[i].getAttribute('src'));
	out.textContent = 'IMAGES ' + imgs.length + ' BROKEN ' + bad.length + ' ' + bad.join(' ');
};
</script>
</body></html>
EOF
	chrome "$1/check-pictures.html" --dump-dom --virtual-time-budget=10000 |
		sed -n 's/.*<pre id="out">\([^<]*\)<\/pre>.*/\1/p'
}

# --- the case ------------------------------------------------------------------
C=$W/case
why=
if ! twin-phantom --size 64x64x48 --spacing 2,2,2 "$W/p" >/dev/null 2>"$W/err"; then
	why="twin-phantom: $(tail -n 1 "$W/err")"
elif ! twin-ingest -q "$W/p/dicom" "$C" 2>"$W/err"; then
	why="twin-ingest: $(tail -n 1 "$W/err")"
elif ! twin-segment -q "$C" >/dev/null 2>"$W/err"; then
	why="twin-segment: $(tail -n 1 "$W/err")"
elif ! twin-mesh -q --size 2.4 "$C" 2>"$W/err"; then
	why="twin-mesh: $(tail -n 1 "$W/err")"
elif ! twin-export -q "$C" 2>"$W/err"; then
	why="twin-export: $(tail -n 1 "$W/err")"
fi
check "a phantom study through the four stages" "$why"
[ -z "$why" ] || skip_rest "no case to report on"

why=
if ! report "$C" >"$W/out" 2>"$W/err"; then
	why="exit $?: $(tail -n 2 "$W/err")"
elif [ ! -s "$C/report.html" ] || [ ! -s "$C/report/mesh-anterior.png" ] || [ ! -s "$C/report/mesh-posterior.png" ]; then
	why="report.html or a mesh picture is missing"
elif command -v xmllint >/dev/null 2>&1 && ! xmllint --noout "$C/report.html" 2>"$W/err"; then
	why="not well-formed: $(head -n 2 "$W/err")"
elif ! grep -q 'class="box warn"\|class="box ok"' "$C/report.html"; then
	why="the summary does not say every stage ran: $(grep -o '<section id="summary" class="[^"]*"' "$C/report.html")"
elif [ "$(grep -c '<h3 id="export-' "$C/report.html")" -lt 8 ]; then
	why="not every export folder is listed"
fi
check "the report is written, well-formed, with the mesh pictures" "$why"

got=$(pictures "$C")
why=
case $got in
"IMAGES "*" BROKEN 0 ") [ "$(echo "$got" | cut -d' ' -f2)" -ge 6 ] || why="too few pictures: $got" ;;
*) why="got '$got'; $(grep -v 'dbus\|^$' "$W/chrome.log" | tail -n 2)" ;;
esac
check "Chromium loads every picture of the page ($got)" "$why"

# The same page with one picture gone must fail the same check.
mkdir -p "$W/broken/segment" "$W/broken/report"
cp "$C/report.html" "$W/broken/"
cp -r "$C/segment/qc" "$W/broken/segment/"
cp "$C/report/mesh-anterior.png" "$W/broken/report/"
got=$(pictures "$W/broken")
case $got in
"IMAGES "*" BROKEN 1 report/mesh-posterior.png") why= ;;
*) why="got '$got'" ;;
esac
check "the check fails when a picture is missing ($got)" "$why"

why=
chrome "$C/report.html" --hide-scrollbars --window-size=1200,1600 --screenshot="$W/shot.png" >/dev/null
if [ ! -s "$W/shot.png" ]; then
	why="no screenshot: $(grep -v 'dbus\|^$' "$W/chrome.log" | tail -n 2)"
else
	# Decode the PNG and count the colours of its first 400 rows: a blank page has one.
	why=$(python3 - "$W/shot.png" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
if data[:8] != b'\x89PNG\r\n\x1a\n':
    sys.exit(print('not a PNG'))
pos, idat, ihdr = 8, b'', None
while pos < len(data):
    length, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b'IHDR':
        ihdr = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat += body
    pos += 12 + length
w, h, depth, ctype = ihdr[:4]
if (w, h) != (1200, 1600):
    sys.exit(print('size %dx%d, not 1200x1600' % (w, h)))
bpp = {2: 3, 6: 4}.get(ctype)
if depth != 8 or bpp is None:
    sys.exit(print('unexpected PNG type %d/%d' % (depth, ctype)))
raw, stride, prev, colours = zlib.decompress(idat), w * bpp, bytearray(w * bpp), set()
for y in range(min(h, 400)):
    f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = row[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: row[i] = (row[i] + a) & 255
        elif f == 2: row[i] = (row[i] + b) & 255
        elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    colours.update(bytes(row[i:i + 3]) for i in range(0, stride, bpp))
    prev = row
if len(colours) < 20:
    print('only %d colours: a blank page' % len(colours))
EOF
)
fi
check "a screenshot of the page is a PNG that is not blank" "$why"

# --- only twin-ingest ran --------------------------------------------------------
P=$W/partial
why=
if ! twin-ingest -q "$W/p/dicom" "$P" 2>"$W/err"; then
	why="twin-ingest: $(tail -n 1 "$W/err")"
elif ! report "$P" 2>"$W/err"; then
	why="exit $?: $(tail -n 2 "$W/err")"
else
	for s in twin-segment twin-mesh twin-export; do
		grep -q "$s has not run" "$P/report.html" || why="$why $s is not shown as not run;"
	done
	grep -q 'class="box notrun"' "$P/report.html" || why="$why the summary does not say so;"
	got=$(pictures "$P")
	[ "$got" = "IMAGES 0 BROKEN 0 " ] || why="$why Chromium: '$got'"
fi
check "a case where only twin-ingest ran: the later stages are shown as not run" "$why"

# --- a corrupt quality.xml ---------------------------------------------------------
cp "$C/report.html" "$W/before.html"
head -c 300 "$C/mesh/quality.xml" >"$W/q" && mv "$W/q" "$C/mesh/quality.xml"
report "$C" >/dev/null 2>"$W/err"
rc=$?
why=
[ $rc -eq 3 ] || why="exit $rc, not 3;"
grep -q "quality '.*mesh/quality.xml': line" "$W/err" || why="$why message: $(head -n 1 "$W/err");"
cmp -s "$W/before.html" "$C/report.html" || why="$why report.html changed;"
check "a corrupt quality.xml stops the report with exit 3, naming the file" "$why"
