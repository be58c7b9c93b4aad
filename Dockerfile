# syntax=docker/dockerfile:1
# One image, two binaries: `liveness-operator` (the entrypoint: the controller) and
# `liveness-api` (the session endpoint the operator deploys for every LivenessApp; its
# Deployment runs this image with the command `liveness-api`).
#
#   docker build -t liveness-operator:0.1.0 .
#   docker tag liveness-operator:0.1.0 <your-registry>/liveness-operator:0.1.0 && docker push …
#
# Build stage: the toolchain of the crate's rust-version, dependencies fetched with the
# lock file (--locked), caches kept in BuildKit cache mounts.
ARG RUST_VERSION=1.94.1
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin liveness-operator --bin liveness-api \
    && mkdir -p /out \
    && cp target/release/liveness-operator target/release/liveness-api /out/

# Runtime stage: Debian slim with CA certificates (AWS and the Kubernetes API are reached
# over TLS) and a numeric non-root user (65532, distroless `nonroot`), which the chart
# also enforces (runAsNonRoot, read-only root filesystem, no capabilities).
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# The release's current ca-certificates (pinning a Debian revision breaks with each point
# release, and the trust store should be the newest anyway).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/liveness-operator /out/liveness-api /usr/local/bin/
USER 65532:65532
# 8080: liveness-api (public), 9090: its metrics; 8081: the operator's metrics.
EXPOSE 8080 8081 9090
ENTRYPOINT ["/usr/local/bin/liveness-operator"]
CMD ["--help"]
