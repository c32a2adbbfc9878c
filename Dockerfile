# The CRM's one image: web (gunicorn), Celery worker and Celery beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext: msgfmt for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Settings require SECRET_KEY and DATABASE_URL; these dummies exist only for the two
# build steps below, which never connect to a database. The real values come from the
# environment at run time.
RUN DEBUG=0 SECRET_KEY=build-only-dummy-secret-key-never-used-at-run-time-0123456789 \
        DATABASE_URL=postgres://build@localhost/build \
        python manage.py compilemessages --ignore=.venv -v 0 \
    && DEBUG=0 SECRET_KEY=build-only-dummy-secret-key-never-used-at-run-time-0123456789 \
        DATABASE_URL=postgres://build@localhost/build \
        python manage.py collectstatic --noinput -v 0

RUN useradd --create-home --uid 1000 crm \
    && mkdir -p /app/media \
    && chown -R crm:crm /app/media
USER crm

EXPOSE 8000
CMD ["gunicorn", "crm.wsgi", "-b", "0.0.0.0:8000", "-w", "3"]
