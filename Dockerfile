# syntax=docker/dockerfile:1.7
#
# One image for all SLRT services, the migration job and the admin job.
#
# Why one image and not one per service: intake, routing, registry, notifier and dashboard are one
# Python distribution (slrt + services + workflows) with one dependency set and shared contracts
# (topic names, event models, workflow types). One image means one build, one scan and one SBOM per
# release, and it guarantees that every process of a release — including `slrt-migrate` and
# `slrt-admin`, which the Helm hooks run — runs exactly the same code and contracts. A per-service
# image would differ only in its default command. The process is chosen by the command:
#
#   slrt-intake | slrt-routing | slrt-registry | slrt-notifier | slrt-dashboard
#   slrt-migrate | slrt-admin
#
#   docker build -t slrt:dev .
#   docker run --rm -e SLRT_KAFKA_BOOTSTRAP=... slrt:dev slrt-routing
#
# The development-only distribution (dev/: the local stack and its servers, the dev token issuer,
# the demo, the stand-ins, faker and rich) and the dev tools are neither copied nor installed:
# production uses the platform's PostgreSQL, Kafka, Temporal and identity provider.

# Pinned patch release and Debian release. Pin the digest too in the release pipeline
# (docker buildx build --build-arg PYTHON_IMAGE=python:3.11.15-slim-trixie@sha256:...).
ARG PYTHON_IMAGE=python:3.11.15-slim-trixie

# ---------------------------------------------------------------------------------------------
# build: resolve and install the project into a self-contained virtualenv at /opt/slrt.
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/slrt

WORKDIR /src

# Dependencies first, so source edits do not re-resolve them. Every dependency ships wheels for
# linux/amd64 and linux/arm64 (cp311 manylinux): --only-binary keeps compilers out of the build
# too. requirements.lock, when present, pins the whole tree (extras that are not installed are
# ignored as constraints).
COPY pyproject.toml README.md requirements.lock* ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    set -eu; \
    if [ -f requirements.lock ]; then set -- --constraint requirements.lock; fi; \
    /opt/slrt/bin/pip install --only-binary=:all: "$@" --requirement /tmp/requirements.txt

# The project itself (its dependencies are already there; hatchling builds the wheel from the
# packages pyproject lists: the platform, the services and the workflows).
COPY slrt ./slrt
COPY services ./services
COPY workflows ./workflows
RUN --mount=type=cache,target=/root/.cache/pip \
    set -eu; \
    if [ -f requirements.lock ]; then set -- --constraint requirements.lock; fi; \
    /opt/slrt/bin/pip install --no-deps "$@" . \
 && /opt/slrt/bin/pip check \
 && /opt/slrt/bin/python -m compileall -q -j 0 /opt/slrt/lib \
 && /opt/slrt/bin/pip uninstall --yes pip

# ---------------------------------------------------------------------------------------------
# runtime: the interpreter, the virtualenv and nothing else; no compiler, no pip, no shell
# tooling beyond what the slim base has.
FROM ${PYTHON_IMAGE} AS runtime

# Set by the release pipeline; the defaults keep local builds reproducible.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG PYTHON_IMAGE

LABEL org.opencontainers.image.title="slrt" \
      org.opencontainers.image.description="SLRT — Indonesia's social-protection complaint and referral system: intake, routing, registry, notifier and dashboard services" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/${PYTHON_IMAGE}"

# A fixed numeric uid/gid: Kubernetes can only enforce runAsNonRoot for a numeric USER.
RUN groupadd --system --gid 10001 slrt \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin slrt \
 && python -m pip uninstall --yes --quiet pip setuptools wheel \
 && rm -rf /root/.cache

COPY --from=build /opt/slrt /opt/slrt

ENV PATH=/opt/slrt/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONFAULTHANDLER=1 \
    SLRT_INTAKE_HOST=0.0.0.0 \
    SLRT_ROUTING_HOST=0.0.0.0 \
    SLRT_REGISTRY_HOST=0.0.0.0 \
    SLRT_NOTIFIER_HOST=0.0.0.0 \
    SLRT_DASHBOARD_HOST=0.0.0.0 \
    SLRT_CONSOLE_HOST=0.0.0.0

# An empty, read-only working directory: settings read an optional .env from here, and the
# container never writes outside /tmp (mounted as an emptyDir by the Helm chart).
WORKDIR /app

USER 10001:10001

# intake, registry, notifier, routing (health and metrics only), dashboard
EXPOSE 8001 8002 8003 8004 8005 8006

CMD ["slrt-intake"]
