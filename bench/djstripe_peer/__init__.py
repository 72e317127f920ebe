"""A minimal Django project around dj-stripe 2.11, the peer of the webhook ingress benchmark.

It runs in a virtualenv of its own (dj-stripe needs ``stripe>=15,<16``; Masthead pins 16),
which ``bench/webhook_ingress.py`` creates under ``$MASTHEAD_VAR_DIR/bench/``. Nothing here
is imported by Masthead.
"""
