"""Bad input never crashes the sandbox: every route, every parameter, wrong values."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode, urlsplit

from stripe_sandbox import routes


def test_every_route_answers_bad_values_of_every_parameter_with_a_4xx(sandbox, client, catalog):
    routes.load_all(background=False)
    cus = client.v1.customers.create(params={"email": "fuzz@example.com"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": cus.id,
            "items": [{"price": catalog["monthly"].id}],
            "default_payment_method": "pm_card_visa",
        }
    )
    charge = client.v1.charges.list(params={"customer": cus.id}).data[0]
    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 1})
    real = {
        "customers": cus.id,
        "subscriptions": sub.id,
        "invoices": sub.latest_invoice,
        "prices": catalog["monthly"].id,
        "products": catalog["product"].id,
        "charges": charge.id,
        "refunds": refund.id,
        "coupons": client.v1.coupons.create(params={"percent_off": 5}).id,
    }
    coupon = real["coupons"]
    real["promotion_codes"] = client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon}}
    ).id
    url = urlsplit(sandbox.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {
        "Authorization": "Bearer sk_test_fuzz",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    checked = 0
    for r in routes.ROUTES:
        template = r.pattern.pattern.strip("^$").replace("\\", "")
        resource = template.split("/")[2]
        for obj_id in ("zz_missing", real.get(resource, "zz_missing")):
            path = template.replace("([^/]+)", obj_id)
            for field in [*r.schema.fields, None]:
                for params in (
                    {} if field is None else {field: "zzz"},
                    {} if field is None else {f"{field}[a][0]": "-1"},
                ):
                    body = urlencode(params)
                    if r.method == "POST":
                        conn.request("POST", path, body=body, headers=headers)
                    else:
                        conn.request(r.method, f"{path}?{body}", headers=headers)
                    resp = conn.getresponse()
                    payload = resp.read()
                    checked += 1
                    assert resp.status < 500, (r.method, path, params, payload[:300])
                    if resp.status >= 400:
                        assert json.loads(payload)["error"]["message"]
    conn.close()
    assert checked > 1000
    assert "Traceback" not in sandbox.log()
