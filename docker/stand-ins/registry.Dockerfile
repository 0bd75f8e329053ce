# A stand-in for registry:2.8 (the Distribution registry), made from Debian's docker-registry (2.8)
# when no registry can be reached. Like the official image: the config at
# /etc/docker/registry/config.yml (storage on the file system under /var/lib/registry, a volume;
# listening on :5000; no authentication: Debian's own default config asks for a password file),
# `registry serve CONFIG` as the command, and a bare config path or subcommand handed to `registry`.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends docker-registry \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/docker-registry /usr/local/bin/registry \
 && mkdir -p /var/lib/registry \
 && printf '%s\n' \
      'version: 0.1' \
      'log: {fields: {service: registry}}' \
      'storage:' \
      '  cache: {blobdescriptor: inmemory}' \
      '  filesystem: {rootdirectory: /var/lib/registry}' \
      '  delete: {enabled: true}' \
      'http:' \
      '  addr: :5000' \
      '  headers: {X-Content-Type-Options: [nosniff]}' \
      'health:' \
      '  storagedriver: {enabled: true, interval: 10s, threshold: 3}' \
      > /etc/docker/registry/config.yml
COPY registry-entrypoint.sh /entrypoint.sh
VOLUME /var/lib/registry
EXPOSE 5000
ENTRYPOINT ["/entrypoint.sh"]
CMD ["/etc/docker/registry/config.yml"]
