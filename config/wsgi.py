"""WSGI entry point for gunicorn.

The Celery producer pool is made at start-up, not on the first webhook: loading the broker
transport takes a few hundred milliseconds that Stripe or a reader would otherwise wait. It
does not connect, so the web process starts while the broker is down.

What is loaded by then (Django, the apps, the URL configuration) lives as long as the
process, so it is frozen out of the cyclic garbage collector (``gc.freeze``): each full
collection would otherwise walk it all again, a few percent of every request's CPU."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from config import celery_app

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
celery_app.producer_pool  # noqa: B018 (made for its side effect)
get_resolver().url_patterns  # noqa: B018 (loads every view module now, not on a request)
gc.freeze()
