"""A product-and-orders API: config.include("lab_shop", route_prefix="/api")."""
import threading


def includeme(config):
    config.registry["lab_shop.orders"] = []  # one order book per app
    config.registry["lab_shop.lock"] = threading.Lock()  # the server runs views in several threads
    config.add_route("products", "/products")
    config.add_route("product", "/products/{sku}")
    config.add_route("orders", "/orders")
    config.scan(".views")
