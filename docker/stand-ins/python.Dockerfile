# A stand-in for python:3.11-slim, made from Debian's own Python when no registry can be reached.
# Like the real image it has Python's C headers (so pip can build extensions once a compiler is
# installed) but no compiler and no libc headers: the headers are kept, the -dev packages purged.
# Built by `dockerlab images prepare`, which puts ca-bundle.crt (possibly empty) in the build context
# and, when a bundle is given, appends ENV lines pointing pip and Python's ssl at it.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates \
 && apt-get install -y --no-install-recommends libpython3.11-dev \
 && cp -a /usr/include/python3.11 /tmp/py-include \
 && cp -a /usr/include/x86_64-linux-gnu/python3.11 /tmp/py-include-arch \
 && apt-get purge -y --auto-remove libpython3.11-dev \
 && mv /tmp/py-include /usr/include/python3.11 \
 && mkdir -p /usr/include/x86_64-linux-gnu && mv /tmp/py-include-arch /usr/include/x86_64-linux-gnu/python3.11 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/python3 /usr/local/bin/python \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip
# A CA bundle for TLS-intercepting proxies, kept apart from the one apt manages so that a later
# `apt-get install ca-certificates` in a learner's Dockerfile cannot overwrite it.
COPY ca-bundle.crt /usr/local/share/dockerlab/ca-bundle.crt
ENV LANG=C.UTF-8
CMD ["python3"]
