#!/bin/sh
# As the official registry image's entrypoint: a config file or a subcommand goes to `registry`.
set -e
case "$1" in
  *.yaml|*.yml) set -- registry serve "$@" ;;
  serve|garbage-collect|help|-*) set -- registry "$@" ;;
esac
exec "$@"
