"""Pagination helpers for any router (q2c.platform.pagination), over the users table."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from q2c.core.errors import ValidationError
from q2c.platform.pagination import CursorParams, PageParams, decode_cursor, paginate, paginate_cursor

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(db):
    User = get_user_model()
    # Names chosen so that name order differs from id order, with ties on last_name.
    for username, last in [("u1", "Berg"), ("u2", "Adler"), ("u3", "Berg"), ("u4", "Cole"), ("u5", "Adler")]:
        User.objects.create_user(username, last_name=last)
    return User.objects.all()


def names(page):
    return [u.username for u in page["items"]]


class TestPages:
    def test_pages_cover_the_ordered_rows_once_with_a_total(self, users):
        rows = users.order_by("last_name", "id")
        first = paginate(rows, PageParams(page=1, page_size=2))
        assert (names(first), first["total"], first["pages"]) == (["u2", "u5"], 5, 3)
        assert names(paginate(rows, PageParams(page=2, page_size=2))) == ["u1", "u3"]
        assert names(paginate(rows, PageParams(page=3, page_size=2))) == ["u4"]

    def test_a_page_past_the_end_is_empty_not_an_error(self, users):
        page = paginate(users.order_by("id"), PageParams(page=9, page_size=2))
        assert (page["items"], page["total"]) == ([], 5)

    def test_an_unordered_queryset_is_a_programming_error(self, users):
        with pytest.raises(RuntimeError):
            paginate(users.order_by(), PageParams())

    def test_page_size_is_bounded(self):
        with pytest.raises(Exception):
            PageParams(page_size=201)
        with pytest.raises(Exception):
            PageParams(page=0)


class TestCursors:
    def test_cursors_walk_a_multi_key_order_without_gaps_or_repeats(self, users):
        seen = []
        cursor = None
        while True:
            page = paginate_cursor(users, CursorParams(cursor=cursor, limit=2), order_by=("last_name", "id"))
            seen += names(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ["u2", "u5", "u1", "u3", "u4"]

    def test_descending_orders_work_too(self, users):
        first = paginate_cursor(users, CursorParams(limit=3), order_by=("-last_name", "-id"))
        rest = paginate_cursor(
            users, CursorParams(cursor=first["next_cursor"], limit=3), order_by=("-last_name", "-id")
        )
        assert names(first) + names(rest) == ["u4", "u3", "u1", "u5", "u2"]
        assert rest["next_cursor"] is None

    def test_rows_added_before_the_cursor_do_not_shift_the_next_page(self, users):
        first = paginate_cursor(users, CursorParams(limit=2), order_by=("last_name", "id"))
        get_user_model().objects.create_user("u0", last_name="Aaron")
        second = paginate_cursor(
            users, CursorParams(cursor=first["next_cursor"], limit=2), order_by=("last_name", "id")
        )
        assert names(second) == ["u1", "u3"]

    def test_a_forged_or_foreign_cursor_is_refused(self, users):
        with pytest.raises(ValidationError) as exc:
            decode_cursor("W1siQmVyZyIsIDFdXQ:1abc:forged", 2)
        assert exc.value.code == "pagination.invalid_cursor"
        page = paginate_cursor(users, CursorParams(limit=1), order_by=("last_name", "id"))
        with pytest.raises(ValidationError):
            paginate_cursor(users, CursorParams(cursor=page["next_cursor"], limit=1), order_by=("id",))
