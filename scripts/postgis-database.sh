#!/usr/bin/env bash
# A PostGIS database for the atlas on this machine, as root or as a user with sudo.
# Usage: scripts/postgis-database.sh [DATABASE]        (default: atlas; ATLAS_POSTGRES_ROLE
#        names another role than atlas)
#
# Installs PostgreSQL and PostGIS if missing, starts Debian's cluster "main", and creates once,
# as the postgres OS user (so it works as root, who has no PostgreSQL role, and as anyone with
# sudo): the role atlas (LOGIN only, not a superuser) with a random password kept in
# ~/.config/atlas/postgres-atlas-password (mode 600), the database owned by it, and the PostGIS
# extension in it. Prints the line to put in your shell:
#   export ATLAS_DATABASE_URL=postgresql+psycopg://atlas:...@127.0.0.1:PORT/DATABASE
# Running it again changes nothing and prints the same line.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
database=${1:-atlas}
role=${ATLAS_POSTGRES_ROLE:-atlas}
for name in "$database" "$role"; do
    [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || die "name '$name': use lower-case letters, digits and _"
done
port=$(ensure_postgres_running) || exit 1
password_file="${XDG_CONFIG_HOME:-$HOME/.config}/atlas/postgres-$role-password"
if [ ! -s "$password_file" ]; then
    mkdir -p "$(dirname "$password_file")"
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$password_file")
fi
chmod 600 "$password_file"
password=$(cat "$password_file")
say "PostgreSQL on port $port: role $role (password in $password_file), database $database with PostGIS"
as_postgres -p "$port" -v role="$role" -v password="$password" >/dev/null <<'SQL' || die "cannot create the PostgreSQL role $role"
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'role', :'password') \gexec
SQL
as_postgres -p "$port" -v db="$database" -v role="$role" >/dev/null <<'SQL' || die "cannot create the database $database"
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
as_postgres -p "$port" -d "$database" -c "SET client_min_messages = warning" \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null || die "cannot create the PostGIS extension in $database"
echo "export ATLAS_DATABASE_URL=postgresql+psycopg://$role:$password@127.0.0.1:$port/$database"
