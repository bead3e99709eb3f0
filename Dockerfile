# syntax=docker/dockerfile:1
# clawdstrike-relay (and the HEC emulator) on Debian 12.
#
#   docker build -t clawdstrike-relay .
#   docker run --rm clawdstrike-relay --help
#
# Build stage: the same install script as README.md's `scripts/demo` and
# `scripts/test` (scripts/setup, Debian packages only), then CMake.
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY scripts/setup scripts/setup
RUN scripts/setup
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    && cmake --build /build -j"$(nproc)" --target clawdstrike-relay hec-emulator \
    && DESTDIR=/out cmake --install /build --strip \
    && /out/usr/bin/clawdstrike-relay --version

# Runtime stage: the shared libraries the binaries link, curl for health
# checks, CA certificates for TLS verification, a non-root user.  No
# compiler, no sources, no configuration with secrets.
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libpq5 libcurl4 libjansson4 libyaml-0-2 libmicrohttpd12 zlib1g libssl3 \
       ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 clawdstrike \
    && useradd --system --uid 10001 --gid clawdstrike --home-dir /nonexistent \
       --no-create-home --shell /usr/sbin/nologin clawdstrike \
    && install -d -o clawdstrike -g clawdstrike -m 0750 /var/lib/hec-emulator
COPY --from=build /out/usr/bin/clawdstrike-relay /out/usr/bin/hec-emulator /usr/bin/
# The sample configuration is documentation here: the container gets its
# real relay.yaml mounted at /etc/clawdstrike/relay.yaml (docker-compose.yml),
# and without one the PG* environment variables select the database.
COPY --from=build /out/etc/clawdstrike/relay.yaml /usr/share/doc/clawdstrike-relay/relay.yaml.sample
USER clawdstrike:clawdstrike
EXPOSE 9187
ENTRYPOINT ["clawdstrike-relay"]
CMD ["run"]
