# A stand-in for python:3.11-slim, made from Debian's own Python when no registry can be reached.
# Built by `dockerlab images prepare`, which puts ca-bundle.crt (possibly empty) in the build context
# and, when a bundle is given, appends ENV lines pointing pip and Python's ssl at it.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/python3 /usr/local/bin/python \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip
# A CA bundle for TLS-intercepting proxies, kept apart from the one apt manages so that a later
# `apt-get install ca-certificates` in a learner's Dockerfile cannot overwrite it.
COPY ca-bundle.crt /usr/local/share/dockerlab/ca-bundle.crt
ENV LANG=C.UTF-8
CMD ["python3"]
