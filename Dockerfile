# exportctl for cron runners and Kubernetes CronJobs, built from this checkout
# (no package index name is trusted for exportctl itself):
#
#   docker build -t exportctl:0.1.0 .
#   docker run --rm -v "$PWD:/work" -e MAMMOTH_API_KEY -e MAMMOTH_API_SECRET \
#       exportctl:0.1.0 drift -f exports/
#
# Two stages: the first builds a wheel from the source, the second installs
# only that wheel and its dependencies, so no build tool or source tree ships.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
COPY schemas ./schemas
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# Never root: the image only needs to read the manifest and reach the APIs.
RUN useradd --create-home --uid 10001 exportctl
USER exportctl
WORKDIR /work
ENV PYTHONUNBUFFERED=1
ENTRYPOINT ["exportctl"]
CMD ["--help"]
