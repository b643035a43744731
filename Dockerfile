FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY wallboard ./wallboard
RUN pip install --no-cache-dir .
EXPOSE 8080
USER nobody
CMD ["wallboard", "run", "--config", "/etc/wallboard/wallboard.toml"]
