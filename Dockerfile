# Build stage: Debian 12 with the project's own install script, Release build.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN scripts/install-deps && scripts/build release

# Runtime stage: only the shared libraries wsgated links (tests/e2e/test_dockerfile_libs.py maps
# every library in `ldd wsgated` to its Debian package and fails if one is missing here).
# libhiredis0.14: the cluster's Redis link; libprometheus-cpp-core1.0: the metrics' exposition.
# libboost-container1.81.0: needed by builds that do not inline Boost.JSON's containers (the
# sanitizer build today); small, so always installed.
FROM debian:12-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 libboost-container1.81.0 libssl3 libyaml-cpp0.7 \
      libspdlog1.10 libfmt9 libhiredis0.14 libprometheus-cpp-core1.0 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/wsgated /usr/local/bin/wsgated
COPY config/gateway.yaml /etc/wsgated/gateway.yaml
USER 65534:65534
EXPOSE 8080 9090
STOPSIGNAL SIGTERM
# GET /healthz on the admin listener with bash's /dev/tcp (debian:12-slim has bash but no curl or
# wget, and wsgated has no probe subcommand): healthy when the status line says 200. The port is
# admin.listen's, 9090 by default; set WSGATED_ADMIN_PORT if your config moves it. The admin
# listener must accept connections on 127.0.0.1 inside the container (127.0.0.1 or 0.0.0.0).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${WSGATED_ADMIN_PORT:-9090} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r -t 2 status <&3 && [[ $status == HTTP/1.[01]' 200 '* ]]"]
ENTRYPOINT ["/usr/local/bin/wsgated"]
CMD ["--config", "/etc/wsgated/gateway.yaml"]
