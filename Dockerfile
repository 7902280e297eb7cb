# pgfed's image: the pgfed binary (coordinator, validator with its
# gateway, federation init) and the PostgreSQL client tools (psql,
# pg_isready). docker-compose.yml builds it; the databases themselves run
# from the official postgres image.
#
#     docker build -t pgfed .
#     docker run --rm pgfed pgfed version

# The build stage: pg_query_go compiles PostgreSQL's parser with cgo.
FROM golang:1.26-bookworm AS build
# go.mod may ask for a later 1.26 patch release than the image's.
ENV GOTOOLCHAIN=auto
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-X main.version=${VERSION}" -o /out/pgfed ./cmd/pgfed

# The runtime stage: the same Debian release as the build stage (glibc).
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --uid 999 pgfed \
    && mkdir /federation && chown pgfed:pgfed /federation
COPY --from=build /out/pgfed /usr/local/bin/pgfed
COPY examples/compose/register.sh /usr/local/bin/pgfed-register
USER pgfed
# /federation holds the keys and configurations of `pgfed federation
# init` (a volume shared by the services of docker-compose.yml).
VOLUME /federation
EXPOSE 6432
CMD ["pgfed", "--help"]
