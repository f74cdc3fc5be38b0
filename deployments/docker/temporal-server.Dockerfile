# syntax=docker/dockerfile:1
# foureyes' Temporal server (temporal-server/, Temporal v1.32.0 with
# authorization by role): one static binary that runs any service of the
# cluster (--services), the schema job (setup-postgres) and the
# healthchecks (health). Build from the repository root:
#   docker build -f deployments/docker/temporal-server.Dockerfile -t foureyes-temporal-server:1.32.0 .
# `-tags release` leaves out the Kubernetes compute provider of Temporal's
# worker autoscaling, as Temporal's own release builds do.
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src/temporal-server
# The authorization file's schema, shared with the main module (go.mod's replace).
COPY formats/ /src/formats/
COPY temporal-server/go.mod temporal-server/go.sum ./
RUN GOWORK=off go mod download
COPY temporal-server/ ./
RUN CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local go build -tags release -trimpath -ldflags="-s -w" \
    -o /out/temporal-server .

# No shell, no package manager: the binary, CA roots and a nonroot user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/temporal-server /usr/local/bin/temporal-server
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/temporal-server"]
