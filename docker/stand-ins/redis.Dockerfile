# A stand-in for redis:8.0, made from Debian 13's redis-server (8.0) when no registry can be reached.
# Like the official image: data in /data (a volume), started as root and run as the redis user,
# protected mode off unless the command sets it, and `redis-server` implied for bare options.
ARG BASE=debian:trixie-slim
FROM ${BASE}
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /data && chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
