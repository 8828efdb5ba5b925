"""The bare view of ``bench_owner_api``: the statements the owner bills endpoint sent (captured once, read from
``BENCH_OWNER_SQL_FILE``) run through Django's connection and their rows answered as JSON, with no DRF, ORM or
serializer. Only ``config.bench_urls`` routes to it."""

import functools
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpResponse


@functools.cache
def captured_statements():
    with open(settings.BENCH_OWNER_SQL_FILE, encoding="utf-8") as file:
        return json.load(file)


def bare_owner_bills(request):
    results = []
    with connection.cursor() as cursor:
        for sql in captured_statements():
            cursor.execute(sql)
            if cursor.description is not None:
                columns = [column.name for column in cursor.description]
                results.append([dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])
    return HttpResponse(
        json.dumps({"results": results}, cls=DjangoJSONEncoder, ensure_ascii=False), content_type="application/json"
    )
