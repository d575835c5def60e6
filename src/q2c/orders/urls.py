"""Pages of orders, mounted at ``/orders/`` (namespace ``orders``)."""

from __future__ import annotations

from django.urls import path

from q2c.orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("board/", views.board, name="board"),
    path("stock/", views.stock, name="stock"),
    path("stock/moves/", views.stock_moves, name="stock_moves"),
    path("stock/receive/", views.receive, name="receive"),
    path("stock/adjust/", views.adjust, name="adjust"),
    path("<int:order_id>/", views.order_detail, name="order_detail"),
    path("<int:order_id>/pick/", views.pick, name="pick"),
    path("<int:order_id>/cancel/", views.cancel_order, name="cancel_order"),
    path("<int:order_id>/close/", views.close_order, name="close_order"),
    path("shipments/<int:shipment_id>/ship/", views.ship, name="ship"),
    path("shipments/<int:shipment_id>/deliver/", views.deliver, name="deliver"),
    path("shipments/<int:shipment_id>/cancel/", views.cancel_shipment, name="cancel_shipment"),
    path("lines/<int:line_id>/activate/", views.activate, name="activate"),
    path("lines/<int:line_id>/complete/", views.complete, name="complete"),
    path("lines/<int:line_id>/cancel/", views.cancel_line, name="cancel_line"),
]
