# One image for the code location, the webserver and the daemon.
FROM python:3.11-slim

WORKDIR /opt/datastorm
COPY pyproject.toml README.md ./
COPY datastorm_core ./datastorm_core
COPY datastorm_dagster ./datastorm_dagster
RUN pip install --no-cache-dir ".[scale,k8s]"

COPY Genfile.toml workspace.yaml ./
COPY docker/workspace.yaml ./docker/workspace.yaml
COPY docker/celery.yaml ./docker/celery.yaml
ENV DAGSTER_HOME=/opt/dagster/home
COPY docker/dagster.yaml /opt/dagster/home/dagster.yaml
