# syntax=docker/dockerfile:1
# Updraft's image: `docker build -t updraft:dev .` then `docker run -p 8080:8080 updraft:dev`
# (standalone), or the chart in chart/ runs `updraft api-server`, `updraft scheduler`, … in it.
# The build stage compiles the package and the web UI and packs them as `npm pack` would publish
# them; the runtime stage installs that tarball with runtime dependencies only. Both steps are
# scripts (scripts/image/) that packages/updraft/test/chart/image.test.ts runs without Docker.
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
# Dependencies first, so that a source change reuses this layer.
COPY package.json package-lock.json ./
COPY packages/updraft/package.json packages/updraft/
COPY packages/ui/package.json packages/ui/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && sh scripts/image/pack.sh /out

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tini as PID 1 reaps the DAG processor's and the LocalExecutor's finished children and forwards
# signals, so `updraft` shuts down cleanly on SIGTERM.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
COPY scripts/image/install.sh /tmp/install.sh
COPY --from=build /out/ /tmp/pack/
RUN sh /tmp/install.sh /usr/local /tmp/pack/updraft-*.tgz \
  && rm -rf /tmp/pack /tmp/install.sh /root/.npm \
  && updraft --version
# The updraft user, uid 50000 in group 0 as Airflow's image: volumes mounted with fsGroup 0 and
# OpenShift's arbitrary uids (always in group 0) can write where the group can.
RUN useradd --uid 50000 --gid 0 --no-create-home --home-dir /opt/updraft --shell /usr/sbin/nologin updraft \
  && mkdir -p /opt/updraft/dags /opt/updraft/logs \
  && chown -R 50000:0 /opt/updraft \
  && chmod -R g+rwX /opt/updraft
# core.dags_folder and logging.base_log_folder default to $UPDRAFT_HOME/dags and /logs.
ENV UPDRAFT_HOME=/opt/updraft \
  NODE_ENV=production
WORKDIR /opt/updraft
USER 50000:0
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "updraft"]
# Everything in one process on the embedded database, reachable from outside the container.
CMD ["standalone", "--host", "0.0.0.0"]
