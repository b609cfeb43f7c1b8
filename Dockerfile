# Build stage: Debian 12 with the project's own install script, Release build.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN scripts/install-deps && scripts/build release

# Runtime stage: only the shared libraries wsgated links.
FROM debian:12-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 libssl3 libyaml-cpp0.7 libspdlog1.10 libfmt9 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/wsgated /usr/local/bin/wsgated
COPY config/gateway.yaml /etc/wsgated/gateway.yaml
USER 65534:65534
EXPOSE 8080 9090
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/wsgated"]
CMD ["--config", "/etc/wsgated/gateway.yaml"]
