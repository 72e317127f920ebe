"""WSGI entry point of the dj-stripe peer (``gunicorn djstripe_peer.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djstripe_peer.settings")
application = get_wsgi_application()
