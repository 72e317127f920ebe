"""WSGI entry point for gunicorn.

The Celery producer pool is made at start-up, not on the first webhook: loading the broker
transport takes a few hundred milliseconds that Stripe or a reader would otherwise wait. It
does not connect, so the web process starts while the broker is down."""

import os

from django.core.wsgi import get_wsgi_application

from config import celery_app

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
celery_app.producer_pool  # noqa: B018 (made for its side effect)
