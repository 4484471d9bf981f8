# The API (and, in later releases, the worker and relay) image.
FROM python:3.11-slim

# Allocator settings measured in bench/ (see app/runtime.py).
ENV MALLOC_MMAP_THRESHOLD_=1048576 \
    _RJEM_MALLOC_CONF=dirty_decay_ms:100,muzzy_decay_ms:0 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never

WORKDIR /srv
RUN pip install --no-cache-dir uv
COPY requirements.lock ./
RUN uv pip install --system --require-hashes -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN uv pip install --system --no-deps .

RUN useradd --system --uid 10001 s321
USER s321
EXPOSE 8000
CMD ["s321", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]
