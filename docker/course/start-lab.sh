#!/bin/sh
# The course container's entrypoint. As root: give the work folder to the learner, then drop to the
# learner with no capabilities left. As the learner: fill an empty work folder with the labs, wait a
# little for the engine, and start JupyterLab (the single-user server when JupyterHub spawned us).
set -eu
work=/home/learner/work

if [ "$(id -u)" = 0 ]; then
  # the work folder, and the grader's scratch space shared with the engine (TMPDIR, DOCKERLAB_CACHE)
  for folder in "$work" /home/learner/.dockerlab; do
    mkdir -p "$folder"
    [ "$(stat -c %u "$folder")" = "$(id -u learner)" ] || chown learner:learner "$folder"
  done
  exec setpriv --reuid=learner --regid=learner --init-groups --inh-caps=-all --bounding-set=-all \
    env HOME=/home/learner USER=learner "$0" "$@"
fi

mkdir -p /home/learner/.dockerlab/tmp /home/learner/.dockerlab/cache
if [ -z "$(ls -A "$work")" ]; then
  cp -R /opt/dockerlab/labs/. "$work/"
  echo "start-lab: the labs are in your work folder"
fi
tries=0
until docker version >/dev/null 2>&1 || [ "$tries" -ge 60 ]; do tries=$((tries + 1)); sleep 0.5; done
docker version >/dev/null 2>&1 || echo "start-lab: no engine answers at ${DOCKER_HOST:-the default socket}; checks will say so" >&2

if [ -n "${JUPYTERHUB_API_TOKEN:-}" ]; then
  exec jupyterhub-singleuser "$@"
fi
exec jupyter lab "$@"
