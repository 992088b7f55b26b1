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
    want=$(cat "$ATLAS_ROOT/pyproject.toml" "$ATLAS_ROOT/constraints.txt" | sha256sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        # psycopg runs over the system libpq (pyproject.toml says why), never psycopg-binary:
        # psycopg-c compiles against it (pg_config from libpq-dev, gcc, the Python headers)
        ensure_packages libpq5 libpq-dev gcc
        if ! "$py" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
            ensure_packages python3-dev
        fi
        say "installing the pinned Python packages of constraints.txt (about 120, 1 GB installed) into $VENV: about two minutes on a fast connection"
        local log="$VENV/pip-install.log" started=$SECONDS
        # constraints.txt pins every version (scripts/update-constraints.sh re-pins on purpose).
        # --no-compile: pip would compile every module of the 1 GB installed (20 of its 50 s of
        # CPU on the 2-core machine); Python compiles the few hundred the atlas imports when it
        # first imports them, and keeps them in __pycache__.
        if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
               "$VENV/bin/python" -m pip install --no-compile -c "$ATLAS_ROOT/constraints.txt" -e "$ATLAS_ROOT[test]" &&
               "$VENV/bin/python" -m pip uninstall -y psycopg-binary; } >"$log" 2>&1; then
            tail -n 30 "$log" >&2
            die "pip install failed; the full log is $log"
        fi
        echo "$want" > "$stamp"
        say "Python packages installed in $((SECONDS - started)) s"
    fi
}

# postgres_cluster NAME: "PORT STATUS" of this machine's cluster NAME of the PostgreSQL version
# in use (pg_lsclusters), or nothing.
postgres_cluster() {
    pg_lsclusters --no-header 2>/dev/null | awk -v v="$(postgres_version)" -v n="$1" '$1 == v && $2 == n {print $3, $4}'
}

# as_postgres PSQL-ARGS...: psql as the postgres OS user (give the port: -p PORT).
as_postgres() {
    as_root runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"
}

# ensure_postgres_running: PostgreSQL with PostGIS installed and Debian's cluster "main" of
# the installed version started if it is down; prints the port pg_lsclusters gives for it
# (Debian picks 5433 and up when 5432 is taken).
ensure_postgres_running() {
    local version cluster port=5432 status
    version=$(postgres_version)
    ensure_packages "postgresql-$version" "postgresql-$version-postgis-3"
    if command -v pg_lsclusters >/dev/null 2>&1; then
        cluster=$(postgres_cluster main)
        [ -n "$cluster" ] || die "no PostgreSQL $version cluster 'main'. Run: sudo pg_createcluster $version main --start"
        read -r port status <<<"$cluster"
        if [ "$status" != online ]; then
            say "starting PostgreSQL $version (cluster main, port $port)"
            as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 \
                || die "cannot start PostgreSQL. Run: sudo pg_ctlcluster $version main start"
        fi
    fi
    echo "$port"
}

# ensure_postgis: a running PostgreSQL with PostGIS, and ATLAS_TEST_POSTGRES_URL pointing at it.
#
# The cluster is Debian's "main" of the installed version, started if it is down, at the port
# pg_lsclusters gives for it (Debian picks 5433 and up when 5432 is taken). When that server
# refuses password-less TCP logins (the Debian default), it creates, once:
# - the role atlas_test: LOGIN CREATEDB, not a superuser, with a random password kept in
#   ~/.config/atlas/postgres-test-password (mode 600);
# - the template database atlas_template_postgis with the PostGIS extension, from which the
#   tests create their databases (a role that is not a superuser cannot create the extension).
ensure_postgis() {
    local port url password_file password
    port=$(ensure_postgres_running) || exit 1
    if [ -n "${ATLAS_TEST_POSTGRES_URL:-}" ]; then return 0; fi
    url="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    if ! "$VENV/bin/python" - "$url" <<'PY' 2>/dev/null; then
import sys, sqlalchemy as sa
sa.create_engine(sys.argv[1]).connect().close()
PY
        # No password-less TCP login: a test role that may create databases, nothing more.
        password_file="${XDG_CONFIG_HOME:-$HOME/.config}/atlas/postgres-test-password"
        if [ ! -s "$password_file" ]; then
            mkdir -p "$(dirname "$password_file")"
            (umask 077 && "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$password_file")
        fi
        chmod 600 "$password_file"
        password=$(cat "$password_file")
        say "PostgreSQL refuses password-less logins: using the role atlas_test (CREATEDB, not a superuser; password in $password_file)"
        as_postgres -p "$port" -v password="$password" >/dev/null <<'SQL' \
            || die "cannot create the PostgreSQL test role. Set ATLAS_TEST_POSTGRES_URL to the URL of a role with CREATEDB."
SELECT 'CREATE ROLE atlas_test' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'atlas_test') \gexec
ALTER ROLE atlas_test LOGIN CREATEDB NOSUPERUSER NOCREATEROLE PASSWORD :'password';
SQL
        ensure_postgis_template "$port"
        url="postgresql+psycopg://atlas_test:$password@127.0.0.1:$port/postgres"
    fi
    export ATLAS_TEST_POSTGRES_URL="$url"
}

# ensure_postgis_template PORT: the template database atlas_template_postgis (PostGIS enabled,
# made by the postgres OS user) that roles without the right to CREATE EXTENSION clone.
ensure_postgis_template() {
    local port=$1
    if [ "$(as_postgres -p "$port" -At -c "SELECT 1 FROM pg_database WHERE datname = 'atlas_template_postgis'")" != 1 ]; then
        say "creating the template database atlas_template_postgis (PostGIS) for the tests"
        as_postgres -p "$port" -c "CREATE DATABASE atlas_template_postgis" &&
        as_postgres -p "$port" -d atlas_template_postgis -c "CREATE EXTENSION postgis" &&
        as_postgres -p "$port" -c "ALTER DATABASE atlas_template_postgis IS_TEMPLATE true" \
            || die "cannot create the template database atlas_template_postgis"
    fi
}

# ensure_postgres_ssl: a small second cluster "atlas_ssl" with ssl = on (a self-signed
# certificate made here), for the test that loads SpatiaLite and then connects over SSL
# (tests/geo/test_native_libraries.py); exports ATLAS_TEST_POSTGRES_SSL_URL. Only the role
# atlas_ssl (no rights beyond logging in) may connect without a password, over SSL from
# 127.0.0.1. Remove it with: sudo pg_dropcluster --stop VERSION atlas_ssl
ensure_postgres_ssl() {
    local version dir port status
    if [ -n "${ATLAS_TEST_POSTGRES_SSL_URL:-}" ]; then return 0; fi
    command -v pg_createcluster >/dev/null 2>&1 || die "pg_createcluster is missing (Debian's postgresql-common)"
    version=$(postgres_version)
    dir="/etc/postgresql/$version/atlas_ssl"
    if [ -z "$(postgres_cluster atlas_ssl)" ]; then
        say "creating the PostgreSQL cluster atlas_ssl (ssl = on) for the SSL test"
        as_root pg_createcluster "$version" atlas_ssl -- --auth-host=scram-sha-256 --auth-local=peer >/dev/null \
            || die "cannot create the PostgreSQL cluster atlas_ssl"
        as_root openssl req -new -x509 -days 3650 -nodes -subj "/CN=localhost" \
            -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1 || die "openssl could not make a certificate"
        as_root chown postgres:postgres "$dir/server.key" "$dir/server.crt"
        as_root chmod 600 "$dir/server.key"
        printf '%s\n' "ssl = on" "ssl_cert_file = '$dir/server.crt'" "ssl_key_file = '$dir/server.key'" \
            "listen_addresses = '127.0.0.1'" "shared_buffers = 16MB" "max_connections = 20" \
            | as_root tee "$dir/conf.d/atlas-ssl.conf" >/dev/null
        as_root sed -i '1i hostssl postgres atlas_ssl 127.0.0.1/32 trust' "$dir/pg_hba.conf"
    fi
    read -r port status <<<"$(postgres_cluster atlas_ssl)"
    if [ "$status" != online ]; then
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" atlas_ssl start \
            || die "cannot start the PostgreSQL cluster atlas_ssl. Run: sudo pg_ctlcluster $version atlas_ssl start"
    fi
    echo "SELECT 'CREATE ROLE atlas_ssl LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'atlas_ssl') \gexec" \
        | as_postgres -p "$port" >/dev/null || die "cannot create the role atlas_ssl"
    export ATLAS_TEST_POSTGRES_SSL_URL="postgresql+psycopg://atlas_ssl@127.0.0.1:$port/postgres?sslmode=require"
}
