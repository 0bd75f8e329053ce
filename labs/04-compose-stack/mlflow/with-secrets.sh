#!/bin/sh
# Hands the database password to PostgreSQL's client library (libpq reads PGPASSWORD) from the
# secret file Compose mounts, then becomes the server itself (exec: it stays PID 1 and gets signals).
set -eu
if [ -r /run/secrets/postgres_password ]; then
  PGPASSWORD="$(cat /run/secrets/postgres_password)"
  export PGPASSWORD
fi
exec "$@"
