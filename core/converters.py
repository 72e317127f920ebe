"""URL path converters shared by the API and the reader's pages."""

from django.urls import register_converter


class RowIdConverter:
    """A positive row id small enough for every database; anything else is a 404."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowIdConverter, "row_id")
