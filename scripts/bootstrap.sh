# Shared by ./run.sh, ./test.sh and .ci/run: install what is missing, idempotently.
# Sourced, not executed. Prints what it does; stops with the one command to run when it
# cannot install something itself (not root and no password-less sudo).

ATLAS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ATLAS_VENV:-$ATLAS_ROOT/.venv}"

say() { printf '\033[1;34m[atlas]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[atlas]\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
    else return 1
    fi
}

# The PostgreSQL major version this machine runs or would install (Debian 12: 15).
postgres_version() {
    local v
    v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$v" ] && command -v apt-cache >/dev/null 2>&1; then
        v=$(apt-cache show postgresql 2>/dev/null | sed -n 's/^Depends:.*postgresql-\([0-9][0-9]*\).*/\1/p' | head -n 1)
    fi
    echo "${v:-15}"
}

# ensure_packages PKG...: install the Debian/Ubuntu packages that are not installed yet.
ensure_packages() {
    local missing=() p
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian/Ubuntu system: make sure these are installed: $*"
        return 0
    fi
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing system packages: ${missing[*]}"
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 \
            || die "cannot install system packages without root. Run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || die "apt-get could not install: ${missing[*]}"
    fi
}

python_for_venv() {
    local candidate
    for candidate in python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    die "Python 3.11 or newer is needed. Run: sudo apt-get install -y python3 python3-venv"
}

# ensure_venv: a virtual environment in .venv with the project installed (editable).
ensure_venv() {
    local py stamp want
    py=$(python_for_venv)
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
            ensure_packages python3-venv
        fi
        say "creating $VENV"
        "$py" -m venv "$VENV" || die "could not create a virtual environment. Run: sudo apt-get install -y python3-venv"
    fi
    stamp="$VENV/.atlas-installed"
    want=$(cat "$ATLAS_ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing Python packages into $VENV (first run takes a minute or two)"
        local log="$VENV/pip-install.log"
        if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
               "$VENV/bin/python" -m pip install -e "$ATLAS_ROOT[test]"; } >"$log" 2>&1; then
            tail -n 30 "$log" >&2
            die "pip install failed; the full log is $log"
        fi
        echo "$want" > "$stamp"
    fi
}

# ensure_map_assets: the npm packages whose scripts and styles the maps serve and embed
# (package.json / package-lock.json; installed into node_modules/, never committed).
ensure_map_assets() {
    local stamp want
    command -v npm >/dev/null 2>&1 || ensure_packages nodejs npm
    stamp="$ATLAS_ROOT/node_modules/.atlas-installed"
    want=$(cat "$ATLAS_ROOT/package.json" "$ATLAS_ROOT/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing map assets from npm into node_modules/"
        (cd "$ATLAS_ROOT" && npm ci --no-audit --no-fund --omit=peer --loglevel=error >/dev/null) \
            || die "npm could not install the map assets. Run: (cd $ATLAS_ROOT && npm ci)"
        echo "$want" > "$stamp"
    fi
}

# ensure_postgis: a running PostgreSQL with PostGIS, and ATLAS_TEST_POSTGRES_URL pointing at it.
ensure_postgis() {
    local version url
    version=$(postgres_version)
    ensure_packages "postgresql-$version" "postgresql-$version-postgis-3"
    if command -v pg_lsclusters >/dev/null 2>&1; then
        if ! pg_lsclusters --no-header 2>/dev/null | awk '{print $4}' | grep -q online; then
            say "starting PostgreSQL $version"
            as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start \
                || die "cannot start PostgreSQL. Run: sudo pg_ctlcluster $version main start"
        fi
    fi
    if [ -n "${ATLAS_TEST_POSTGRES_URL:-}" ]; then return 0; fi
    url="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if ! "$VENV/bin/python" - "$url" <<'PY' 2>/dev/null; then
import sys, sqlalchemy as sa
sa.create_engine(sys.argv[1]).connect().close()
PY
        # No password-less TCP login (the Debian default): a local test role with a password.
        say "creating the PostgreSQL role atlas_test for the tests"
        as_root runuser -u postgres -- psql -q -c \
            "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='atlas_test') THEN CREATE ROLE atlas_test LOGIN SUPERUSER PASSWORD 'atlas_test'; END IF; END\$\$;" \
            || die "cannot create a PostgreSQL test role. Set ATLAS_TEST_POSTGRES_URL to an admin URL."
        url="postgresql+psycopg://atlas_test:atlas_test@127.0.0.1:5432/postgres"
    fi
    export ATLAS_TEST_POSTGRES_URL="$url"
}
