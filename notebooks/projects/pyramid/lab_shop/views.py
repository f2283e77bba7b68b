from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

PRODUCTS = {"tea": {"sku": "tea", "name": "Green tea", "price": 4.5},
            "mug": {"sku": "mug", "name": "Mug", "price": 9.0}}


@view_config(route_name="products", request_method="GET", renderer="json")
def list_products(request):
    return sorted(PRODUCTS)


@view_config(route_name="product", request_method="GET", renderer="json")
def get_product(request):
    try:
        return PRODUCTS[request.matchdict["sku"]]
    except KeyError:
        raise HTTPNotFound(json_body={"error": "no such product"}) from None


@view_config(route_name="orders", request_method="POST", renderer="json", permission="order")
def create_order(request):
    orders = request.registry["lab_shop.orders"]
    with request.registry["lab_shop.lock"]:
        order = {"id": len(orders) + 1, "sku": request.json_body["sku"], "customer": request.authenticated_userid}
        orders.append(order)
    request.response.status = 201
    return order
