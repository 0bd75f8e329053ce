# A stand-in for python:3.11-slim when no registry can be reached, made the way the official image
# is made: CPython built from source into /usr/local (Debian's source package of Python 3.11, its
# upstream tarball without Debian's patches), so the install layout is upstream's: `site-packages`,
# `pip install --prefix=/install` writes /install/lib/python3.11/site-packages, `python -m venv`
# works, `python`, `python3`, `pip` and `pip3` are in /usr/local/bin. Like the real image it keeps
# Python's C headers but has no compiler and no libc headers.
# Built by `dockerlab images prepare`, which puts ca-bundle.crt (possibly empty) in the build context
# and, when a bundle is given, appends ENV lines pointing pip and Python's ssl at it.
ARG BASE=debian:bookworm-slim
FROM ${BASE} AS build
RUN export DEBIAN_FRONTEND=noninteractive \
 && echo 'deb-src http://deb.debian.org/debian bookworm main' > /etc/apt/sources.list.d/source.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends dpkg-dev gcc make ca-certificates python3-pip-whl \
      libbz2-dev libc6-dev libdb-dev libexpat1-dev libffi-dev libgdbm-dev liblzma-dev libncursesw5-dev \
      libreadline-dev libsqlite3-dev libssl-dev uuid-dev zlib1g-dev \
 && mkdir /src && cd /src && apt-get source --download-only python3.11 \
 && tar -xzf python3.11_*.orig.tar.gz
# The official image's configure flags, less the slow ones (profile-guided optimisation, LTO).
RUN cd /src/Python-3.11.* \
 && ./configure --build="$(dpkg-architecture --query DEB_BUILD_GNU_TYPE)" --prefix=/usr/local \
      --enable-loadable-sqlite-extensions --enable-option-checking=fatal --enable-shared \
      --with-system-expat --with-ensurepip=install LDFLAGS="-Wl,--strip-all" > /dev/null \
 && make -s -j "$(nproc)" > /dev/null 2>&1 \
 && make -s install > /dev/null 2>&1 \
 && ldconfig \
 && /usr/local/bin/python3 -m pip install --no-cache-dir --no-index --upgrade /usr/share/python-wheels/pip-*.whl \
 && find /usr/local -depth \( -type d -a \( -name test -o -name tests -o -name idle_test \) \) \
      -o \( -type f -a \( -name '*.pyc' -o -name '*.pyo' -o -name 'libpython*.a' \) \) -exec rm -rf '{}' + \
 && cd /usr/local/bin \
 && for name in idle3 pydoc3 python3 python3-config; do ln -sT "$name" "$(echo "$name" | tr -d 3)"; done

FROM ${BASE}
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates netbase tzdata \
      libbz2-1.0 libdb5.3 libexpat1 libffi8 libgdbm6 liblzma5 libncursesw6 libreadline8 libsqlite3-0 \
      libssl3 libuuid1 zlib1g \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY --from=build /usr/local /usr/local
RUN ldconfig \
 && python3 -c "import ssl, sqlite3, ctypes, bz2, lzma, zlib, readline, uuid, dbm, venv, pyexpat, curses" \
 && ! find /usr/local -type f -name '*.so*' -exec ldd '{}' ';' | grep 'not found'
# A CA bundle for TLS-intercepting proxies, kept apart from the one apt manages so that a later
# `apt-get install ca-certificates` in a learner's Dockerfile cannot overwrite it.
COPY ca-bundle.crt /usr/local/share/dockerlab/ca-bundle.crt
ENV PATH=/usr/local/bin:$PATH LANG=C.UTF-8
CMD ["python3"]
