from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_PAGE = 2**31 - 1


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def counted_page(self, request, read):
        """The page the request asks for, read with its count in one go: ``read(offset, limit)`` returns (count,
        rows), count None past the last page. Answers what ``get_paginated_response`` would."""
        size = self.get_page_size(request)
        asked = request.query_params.get(self.page_query_param) or "1"
        if asked in self.last_page_strings:
            count, _rows = read(0, 1)
            number = max(1, -(-count // size))
        else:
            try:
                number = int(asked)
            except ValueError:
                number = 0
            if number < 1:
                raise NotFound(_("页码应为正整数"))
        # Past any real page, and past what the database takes as an OFFSET.
        count, rows = read((number - 1) * size, size) if number <= MAX_PAGE else (None, [])
        if count is None:
            raise NotFound(_("第 %(page)s 页没有数据") % {"page": number})
        url = request.build_absolute_uri()
        following = replace_query_param(url, self.page_query_param, number + 1) if number * size < count else None
        if number == 1:
            previous = None
        elif number == 2:
            previous = remove_query_param(url, self.page_query_param)
        else:
            previous = replace_query_param(url, self.page_query_param, number - 1)
        return Response({"count": count, "next": following, "previous": previous, "results": rows})
