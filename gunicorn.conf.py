"""gunicorn's settings for `gunicorn crm.wsgi` (Procfile: web), from the environment.

PORT (8000) and BIND_ADDRESS (0.0.0.0) where to listen; WEB_CONCURRENCY worker processes
(2 per core, at least 2); GUNICORN_THREADS threads per process (4: requests mostly wait on
PostgreSQL); GUNICORN_TIMEOUT seconds before a stuck worker is restarted (30). Each request
is logged once, as JSON, by crm.core.middleware.RequestLogMiddleware: no access log here.
"""

import multiprocessing
import os

bind = f"{os.environ.get('BIND_ADDRESS', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, 2 * multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Restart each worker after this many requests (with jitter), bounding a slow memory leak.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = 100
accesslog = None
errorlog = "-"
# Behind a proxy (BEHIND_PROXY=1), trust its X-Forwarded-* headers (Django decides per setting).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
