# portcullis as a container image, for GitLab CI, Kubernetes Jobs and Argo
# Workflows: a static (musl) binary with the built-in plugins precompiled
# into it, git for `--changed-since` and the hooks, run as a non-root user.
#
#   docker build -t portcullis .
#   docker run --rm -v "$PWD:/repo:ro" portcullis check /repo
#
# The default image holds no Rust toolchain, which the deps plugin's
# `cargo metadata` needs: for Rust repositories build the `cargo` target
# (`docker build --target cargo -t portcullis:cargo .`), the same binary in
# the Rust image. The build downloads the toolchain rust-toolchain.toml pins
# (with its wasm32-wasip2 target) and the crates Cargo.lock names.

ARG RUST_IMAGE=rust:1.95.0-alpine3.22
ARG RUNTIME_IMAGE=alpine:3.22

FROM ${RUST_IMAGE} AS build
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY rust-toolchain.toml ./
RUN rustup toolchain install && rustc --version
COPY . .
RUN cargo build --release --locked -p portcullis \
 && mkdir /out \
 && target/release/portcullis precompile --output /out/portcullis

# Static: the binary runs with no C library and no loader at all.
FROM scratch AS static
COPY --from=build /out/portcullis /portcullis
RUN ["/portcullis", "--version"]

# The checkout a CI runner or `docker run -v` mounts belongs to another
# user, which git refuses to read unless told: only /repo (the documented
# mount) is trusted, through command-line-scope configuration that no
# repository can change; every git setting that would run a program of the
# repository is overridden on the gate's own command lines (README, "Threat
# model").
# The GitLab CI template trusts its project directory the same way.
FROM ${RUST_IMAGE} AS cargo
# hadolint ignore=DL3018
RUN apk add --no-cache git \
 && adduser -D -u 10001 -h /home/portcullis portcullis
COPY --from=static /portcullis /usr/local/bin/portcullis
ENV GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=/repo \
    CARGO_HOME=/home/portcullis/.cargo
USER 10001:10001
ENTRYPOINT ["portcullis"]

FROM ${RUNTIME_IMAGE}
# hadolint ignore=DL3018
RUN apk add --no-cache git \
 && adduser -D -u 10001 -h /home/portcullis portcullis
COPY --from=static /portcullis /usr/local/bin/portcullis
ENV GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=/repo
USER 10001:10001
# No default command: `docker run portcullis` with no arguments is a usage
# error (exit 2), never a check of whatever directory happens to be there.
ENTRYPOINT ["portcullis"]
