"""Flask's JSON through orjson: the API's responses are mostly JSON, and orjson is much faster."""

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    """Serialise with orjson, keeping key order (the interest vector is in taxonomy order), and
    NumPy arrays as lists."""

    sort_keys = False

    # NumPy arrays are written as lists: the map's columns stay compact arrays until then.
    OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY

    def _options(self, kwargs: dict) -> int:
        option = self.OPTIONS
        if kwargs.get("indent"):
            option |= orjson.OPT_INDENT_2
        if kwargs.get("sort_keys"):
            option |= orjson.OPT_SORT_KEYS
        return option

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default, option=self._options(kwargs)).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, default=self.default, option=self.OPTIONS)
        return self._app.response_class(body, mimetype=self.mimetype)
