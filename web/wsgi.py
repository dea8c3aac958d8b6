"""The WSGI entry point for production servers: `gunicorn -w 4 web.wsgi:app`.

ProductionConfig refuses to start without DATABASE_URL and SECRET_KEY, because several worker
processes must share one database and one key (a generated key would differ per process).
"""
from config import ProductionConfig
from web import create_app

app = create_app(ProductionConfig().as_dict())
