"""Pages of the catalog, mounted at ``/catalog/`` (namespace ``catalog``)."""

from __future__ import annotations

from django.urls import path

from q2c.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("products/<int:product_id>/", views.product_detail, name="product_detail"),
    path("price-books/", views.price_book_list, name="price_book_list"),
    path("price-books/<int:book_id>/", views.price_book_detail, name="price_book_detail"),
    path("price-check/", views.price_check, name="price_check"),
    path("import/", views.import_page, name="import"),
]
