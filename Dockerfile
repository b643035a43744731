# The wallboard daemon as an image: `docker build -t vicidial-wallboard .`
#
# Two stages: the first builds the project's wheel and installs it with its dependencies into a
# virtual environment (/opt/wallboard); the second copies only that environment, so no build
# tool, pip cache or source tree reaches the final image. Both stages use the same base image,
# so the environment's interpreter path is valid in the second.
#
# No configuration and no secret is baked in: the config file is mounted at
# /etc/wallboard/wallboard.toml and the VICIdial password arrives as a file at run time
# (a Docker secret read through WALLBOARD_VICIDIAL__PASS_FILE). See docker-compose.yml.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# Only what the wheel is built from (pyproject's readme is part of the metadata); .dockerignore
# keeps everything else, secrets and local configs included, out of the build context.
COPY pyproject.toml README.md ./
COPY wallboard ./wallboard
RUN python -m venv --without-pip /opt/wallboard \
    && pip --python /opt/wallboard/bin/python install --no-cache-dir .

FROM ${PYTHON_IMAGE}
# A named system user with a fixed uid/gid (not nobody: files nobody owns are everybody's
# problem, and a fixed id lets an operator chown a bind-mounted state directory to it).
ARG WALLBOARD_UID=10001
RUN groupadd --system --gid "${WALLBOARD_UID}" wallboard \
    && useradd --system --uid "${WALLBOARD_UID}" --gid wallboard --no-create-home \
        --home-dir /var/lib/wallboard --shell /usr/sbin/nologin wallboard \
    && install -d -o wallboard -g wallboard -m 0750 /var/lib/wallboard \
    && install -d -m 0755 /etc/wallboard
COPY --from=build /opt/wallboard /opt/wallboard

# Inside the container the port is the image's contract (EXPOSE, HEALTHCHECK): the daemon
# listens on every interface of its own network namespace, and publishing the port (or not)
# decides who reaches it. The config's default, loopback, would be unreachable from outside.
ENV PATH=/opt/wallboard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WALLBOARD_WEB__LISTEN=0.0.0.0:8080

# The SQLite state (state.path; the example's relative "wallboard.db" lands here because this
# is the working directory). A volume, so history and the alert outbox outlive the container.
WORKDIR /var/lib/wallboard
VOLUME ["/var/lib/wallboard"]
# Numeric, so an orchestrator's "run as non-root" check can verify it without /etc/passwd.
USER ${WALLBOARD_UID}:${WALLBOARD_UID}
EXPOSE 8080

# /healthz answers 200 while the process serves (no token needed). python -c, because the slim
# image has no curl or wget; a refused connection or a non-2xx answer raises, which exits 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

CMD ["wallboard", "run", "--config", "/etc/wallboard/wallboard.toml"]
