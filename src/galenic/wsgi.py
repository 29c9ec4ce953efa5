import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "galenic.settings")
application = get_wsgi_application()

# Import every view and API module now, not at the first request: with gunicorn --preload the
# workers share them, and the first request after a (re)start does not wait seconds for them.
import galenic.urls  # noqa: E402, F401
