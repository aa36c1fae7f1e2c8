# tests/tap.sh: the start every black-box script shares. Sourced right after
# the script sets here=(its folder): puts $TWIN_BIN first on PATH, makes a
# scratch folder $W that goes at exit, and defines the TAP helpers.
: "${TWIN_BIN:=$here/../../build/bin}"
PATH="$TWIN_BIN:$PATH"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
# notok NAME [LINE...]: a failure, with each LINE (which may hold newlines) as a comment
notok() { n=$((n + 1)); echo "not ok $n - $1"; shift; [ $# -eq 0 ] || printf '%s\n' "$@" | sed 's/^/#   /'; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check NAME WHY: ok when WHY is empty, else a failure that says WHY
check() { if [ -z "$2" ]; then ok "$1"; else notok "$1" "$2"; fi; }
has() { command -v "$1" >/dev/null 2>&1; }
