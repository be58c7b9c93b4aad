# syntax=docker/dockerfile:1
# One image, two binaries: `liveness-operator` (the entrypoint: the controller) and
# `liveness-api` (the session endpoint the operator deploys for every LivenessApp; its
# Deployment runs this image with the command `liveness-api`).
#
#   docker build -t liveness-operator:0.1.0 .
#   docker tag liveness-operator:0.1.0 <your-registry>/liveness-operator:0.1.0 && docker push …
#
# Docker needs BuildKit (the default since Docker 23; the cache mounts need it, and it skips
# the stage BINARIES does not select). The `# syntax=` line makes Docker fetch the
# Dockerfile frontend image, so it needs the network; podman ignores the line.
#
# podman (scripts/image.sh, which builds this file without any registry):
#   podman build --pull=never --build-arg BINARIES=build -t liveness-operator:0.1.0 .
# podman 4.3 (buildah 1.28) resolves `FROM ${BINARIES}` only from a --build-arg, not from
# the ARG's default: always pass --build-arg BINARIES=... to podman. --pull=never uses the
# local `rust:` and `debian:` images scripts/image.sh makes from Debian's packages (a named
# build context, podman 4.3's --build-context, does not replace a FROM image there).
#
# Build stage: the toolchain of the crate's rust-version, dependencies fetched with the
# lock file (--locked), caches kept in BuildKit cache mounts.
ARG RUST_VERSION=1.94.1
ARG DEBIAN_RELEASE=bookworm
# Where the runtime stage takes the two binaries from: `build` (compiled in the stage
# below; the default) or `prebuilt` (liveness-operator and liveness-api at the root of the
# build context, built on a Debian bookworm host so glibc matches: scripts/image.sh
# --runtime-only). Both variants share the runtime stage, so they cannot drift apart.
ARG BINARIES=build

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin liveness-operator --bin liveness-api \
    && mkdir -p /out \
    && cp target/release/liveness-operator target/release/liveness-api /out/

FROM scratch AS prebuilt
COPY liveness-operator liveness-api /out/

# The selected source of the binaries (a stage name, not an image).
# hadolint ignore=DL3006
FROM ${BINARIES} AS binaries

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
COPY --from=binaries /out/liveness-operator /out/liveness-api /usr/local/bin/
USER 65532:65532
# 8080: liveness-api (public), 9090: its metrics; 8081: the operator's metrics.
EXPOSE 8080 8081 9090
ENTRYPOINT ["/usr/local/bin/liveness-operator"]
CMD ["--help"]
