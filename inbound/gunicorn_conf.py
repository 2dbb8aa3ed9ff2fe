"""gunicorn's settings for the web process: `gunicorn inbound.wsgi -c python:inbound.gunicorn_conf`.

One place for how requests are logged, shared by the Dockerfile, docker-compose.yml and the
Procfile: one line per request on stdout with the request id, without the client's address or
the query string (no raw IPs, search terms or tokens in logs), and with the token of any
citizen's link redacted from the path (`/es/baja/<redacted>/`, inbound.lib.logredact).
"""

accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
logger_class = "inbound.lib.logredact.GunicornLogger"
