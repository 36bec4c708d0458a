"""The example business steps of the order flow and their compensations.

Each step reads what it needs from earlier outputs (``ctx.outputs``) and returns its own
output, which the next steps receive. Effects go to small Redis records standing in for a
stock service, a payment provider, an outbox and an invoicing system; each is written with
``HSETNX`` keyed by the order, so repeating a step or a compensation changes nothing.

Switches for demos and tests: card ``tok_declined`` is declined (permanent), ``tok_flaky``
times out on the first attempt (transient), ``tok_slow`` takes a second to answer; an item
with sku ``NOINVOICE`` makes the invoice branch fail permanently after the payment.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from common.errors import PermanentError, TransientError
from recipes.job_chains import shop_key
from recipes.job_chains.runner import StepContext


def _put_once(ctx: StepContext, what: str, value: dict[str, Any]) -> dict[str, Any]:
    """Write the order's record in ``what`` unless it exists; return the stored record."""
    key = shop_key(ctx.namespace, what)
    ctx.client.hsetnx(key, ctx.order.order_id, json.dumps(value))
    return json.loads(ctx.client.hget(key, ctx.order.order_id))  # type: ignore[arg-type]


def validate(ctx: StepContext) -> dict[str, Any]:
    total = sum(item.qty * item.price_cents for item in ctx.order.items)
    if total > 10_000_000:
        raise PermanentError(f"order total {total} cents is over the 100,000.00 limit")
    reservation = _put_once(ctx, "reservations", {
        "items": {item.sku: item.qty for item in ctx.order.items}})
    return {"total_cents": total, "reserved": reservation["items"]}


def charge(ctx: StepContext) -> dict[str, Any]:
    amount = ctx.outputs["validate"]["total_cents"]
    if ctx.order.card == "tok_declined":
        raise PermanentError("card declined by the payment provider")
    if ctx.order.card == "tok_flaky" and ctx.attempt == 1:
        raise TransientError("payment provider timed out")
    if ctx.order.card == "tok_slow":
        time.sleep(1.0)
    payment = _put_once(ctx, "payments", {"payment_id": f"pay_{ctx.order.order_id}",
                                          "amount_cents": amount})
    return {"payment_id": payment["payment_id"], "amount_cents": payment["amount_cents"]}


def email(ctx: StepContext) -> dict[str, Any]:
    paid = ctx.outputs["charge"]
    _put_once(ctx, "outbox", {"to": ctx.order.email, "subject": "Your order is confirmed",
                              "body": f"We received {paid['amount_cents']} cents "
                                      f"({paid['payment_id']})."})
    return {"outbox_id": f"mail_{ctx.order.order_id}", "to": ctx.order.email}


def invoice(ctx: StepContext) -> dict[str, Any]:
    if any(item.sku == "NOINVOICE" for item in ctx.order.items):
        raise PermanentError("invoicing refused: item NOINVOICE has no tax code")
    key = shop_key(ctx.namespace, "invoices")
    existing = ctx.client.hget(key, ctx.order.order_id)
    number = json.loads(existing)["number"] if existing else int(
        ctx.client.incr(shop_key(ctx.namespace, "invoice_seq")))
    record = _put_once(ctx, "invoices", {"number": number, **ctx.outputs["charge"]})
    return {"invoice_number": record["number"], "payment_id": record["payment_id"],
            "amount_cents": record["amount_cents"]}


def archive(ctx: StepContext) -> dict[str, Any]:
    """The fan-in: needs both branches' outputs."""
    summary = {"payment_id": ctx.outputs["charge"]["payment_id"],
               "invoice_number": ctx.outputs["invoice"]["invoice_number"],
               "outbox_id": ctx.outputs["email"]["outbox_id"]}
    _put_once(ctx, "archive", summary)
    return summary


def release_stock(ctx: StepContext) -> None:
    ctx.client.hdel(shop_key(ctx.namespace, "reservations"), ctx.order.order_id)


def refund(ctx: StepContext) -> None:
    _put_once(ctx, "refunds", {"payment_id": ctx.outputs["charge"]["payment_id"],
                               "amount_cents": ctx.outputs["charge"]["amount_cents"]})


def send_cancellation(ctx: StepContext) -> None:
    _put_once(ctx, "cancellations", {"to": ctx.order.email, "subject": "Order cancelled"})


def void_invoice(ctx: StepContext) -> None:
    _put_once(ctx, "voided", {"invoice_number": ctx.outputs["invoice"]["invoice_number"]})


STEP_FNS: dict[str, Callable[[StepContext], dict[str, Any]]] = {
    "validate": validate, "charge": charge, "email": email, "invoice": invoice,
    "archive": archive}
#: Undo for each step that has an effect worth undoing; run newest first.
COMPENSATIONS: dict[str, Callable[[StepContext], None]] = {
    "validate": release_stock, "charge": refund, "email": send_cancellation,
    "invoice": void_invoice}
