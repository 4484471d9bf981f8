# One image for every service of docker-compose.yml: `s321 serve`, `s321 worker`,
# `s321 relay`, `s321 ace-simulator`, `s321 db upgrade`.

# -- build: the locked dependencies and the project, into a virtual environment --------
FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv
WORKDIR /srv
RUN python -m venv /opt/s321
COPY requirements.lock ./
RUN uv pip install --python /opt/s321/bin/python --require-hashes -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
# Editable: the code stays in /srv beside migrations/, where `s321 db upgrade` finds them.
RUN uv pip install --python /opt/s321/bin/python --no-deps -e .

# -- run: the environment and the code, without the build tools, as an unprivileged user --
FROM python:3.11-slim AS run
# Allocator settings measured in bench/ (see app/runtime.py).
ENV MALLOC_MMAP_THRESHOLD_=1048576 \
    _RJEM_MALLOC_CONF=dirty_decay_ms:100,muzzy_decay_ms:0 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/s321/bin:$PATH
RUN useradd --system --uid 10001 --no-create-home s321
COPY --from=build /opt/s321 /opt/s321
WORKDIR /srv
COPY --from=build /srv /srv
USER s321
EXPOSE 8000
CMD ["s321", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]
