# What every benchmark begins with, sourced after setting bench=NAME:
#
#	bench=e2e
#	. "$(dirname "$0")/lib.sh"
#
# Sets here (this folder), puts TWIN_BIN (build/bin by default) first in PATH
# and makes W, a scratch folder removed on exit.
here=$(cd "$(dirname "$0")" && pwd)
: "${TWIN_BIN:=$here/../build/bin}"
PATH="$TWIN_BIN:$PATH"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# need PROGRAM...: exit 1, naming it, when a program is not there
need() {
	for p in "$@"; do
		if ! command -v "$p" >/dev/null; then
			echo "bench/$bench: '$p' is missing (make deps, then make)" >&2
			exit 1
		fi
	done
}

# clinical_study DIR: a 512x512x300 CT study in DIR (twin-phantom --clinical)
# unless DIR/dicom is there already; its files then in the page cache, so
# that every run reads them from memory
clinical_study() {
	if [ ! -d "$1/dicom" ]; then
		echo "bench/$bench: making a 512x512x300 study with twin-phantom --clinical" >&2
		if ! twin-phantom -q --clinical "$1" >"$W/phantom.log" 2>&1; then
			echo "bench/$bench: twin-phantom failed: $(tail -n 2 "$W/phantom.log")" >&2
			exit 1
		fi
	fi
	cat "$1"/dicom/* >/dev/null
}
