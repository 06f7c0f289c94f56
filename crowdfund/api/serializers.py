"""Models as the JSON the schemas in `*_schemas.py` describe. Reading only: no rules here."""

from datetime import timezone

from ..services.delivery_records import receipt_delivery
from ..services.material_changes import STANDING as RECONFIRMABLE
from ..services.receipts import commitment_cancel_until

# One list for the page, the CSV and the API.
from ..services.statements import DELIVERY_KEYS, STATEMENT_KEYS, STATEMENT_TIMES


def iso(moment):
    """An aware datetime as ISO 8601 UTC ("2030-01-31T18:00:00Z"); None stays None."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def user(u):
    return {
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "is_admin": bool(u.is_admin),
        "email_verified": u.email_verified_at is not None,
    }


def firm(f, *, locked, payout_status):
    """`locked` and `payout_status` (None: no payout account) as the services said."""
    return {
        "id": f.id,
        "name": f.legal_name,
        "registration_number": f.registration_number,
        "country": f.country,
        "address": f.address,
        "website": f.website,
        "description": f.description or "",
        "locked": bool(locked),
        "payout_account": {"status": payout_status} if payout_status else None,
    }


def public_firm(f):
    """What anyone may read of a firm: `firm` without its payout account or lock."""
    return {
        "id": f.id,
        "name": f.legal_name,
        "registration_number": f.registration_number,
        "country": f.country,
        "address": f.address,
        "website": f.website,
        "description": f.description or "",
    }


def campaign_record(c):
    """A campaign on a firm's public record (services/firm_record.CampaignRecord)."""
    return {
        "id": c.id,
        "slug": c.slug,
        "title": c.title,
        "status": c.status,
        "currency": c.currency,
        "goal": c.goal,
        "pledged": c.pledged,
        "backers": c.backers,
        "launched_at": iso(c.launched_at),
        "ended_at": iso(c.ended_at),
    }


def tier(t):
    return {
        "id": t.id,
        "title": t.title,
        "description": t.description or "",
        "price": t.price,
        "quantity": t.quantity,
        "remaining": t.remaining,
        "per_backer_limit": t.per_backer_limit,
        "estimated_delivery": t.estimated_delivery,
        "shipping": t.shipping,
        "shipping_fee": t.shipping_fee,
        "shipping_rates": t.shipping_rates or [],
    }


def add_on(a):
    return {
        "id": a.id,
        "title": a.title,
        "description": a.description or "",
        "price": a.price,
        "quantity": a.quantity,
        "remaining": a.remaining,
        "shipping": a.shipping,
        "shipping_fee": a.shipping_fee,
        "shipping_rates": a.shipping_rates or [],
    }


def equity(offering):
    if offering is None:
        return None
    return {
        "security_type": offering.security_type,
        "price_per_share": offering.price_per_share,
        "shares_offered": offering.shares_offered,
        "min_shares": offering.min_shares,
        "pre_money_valuation": offering.pre_money_valuation,
        "shares_outstanding": offering.shares_outstanding,
        "shares_remaining": offering.shares_remaining,
    }


def project_summary(p):
    return {
        "id": p.id,
        "slug": p.slug,
        "firm_id": p.firm_id,
        "title": p.title,
        "summary": p.summary,
        "kind": p.kind,
        "status": p.status,
        "category": p.category,
        "currency": p.currency,
        "goal": p.goal,
        "funding_model": p.funding_model or "all_or_nothing",
        "pledged": p.pledged_amount,
        "backers": p.backer_count,
        "deadline": iso(p.deadline),
        "risk_grade": p.risk_grade,
    }


def project(p, *, end_reason=None):
    """`end_reason`: why a cancelled or suspended campaign ended (services/campaign_pages.py)."""
    return {
        **project_summary(p),
        "description": p.description or "",
        "risks": p.risks or "",
        "use_of_funds": p.use_of_funds or "",
        "duration_days": p.duration_days,
        "launched_at": iso(p.launched_at),
        "created_at": iso(p.created_at),
        "release_model": p.release_model or "at_success",
        "tiers": [tier(t) for t in p.tiers],
        "add_ons": [add_on(a) for a in p.add_ons] if p.kind == "reward" and p.has_add_ons else [],
        "stretch_goals": [stretch_goal(g) for g in p.stretch_goals],
        "equity": equity(p.equity) if p.kind == "equity" else None,
        "end_reason": end_reason,
    }


def project_page(page):
    return {
        "items": [project_summary(p) for p in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
    }


def status(p):
    return {"id": p.id, "status": p.status}


def document(d):
    return {"id": d.id, "kind": d.kind, "filename": d.filename, "content_type": d.content_type, "size": d.size}


def pledge(p):
    action = p.next_action if p.status == "requires_action" else None
    return {
        "id": p.id,
        "project_id": p.project_id,
        "status": p.status,
        "amount": p.amount,
        "currency": p.currency,
        "tier_id": p.tier_id,
        "quantity": p.quantity,
        "shares": p.shares,
        "add_ons": [
            {"id": i["id"], "title": i["title"], "quantity": i["quantity"], "price": i["price"]}
            for i in p.add_ons or ()
        ],
        "reward_amount": p.reward_amount,
        "add_ons_amount": p.add_ons_amount or 0,
        "shipping_fee": p.shipping_fee,
        "extra_amount": p.extra_amount,
        "shipping_address": _address(p.shipping_address),
        "created_at": iso(p.created_at),
        "failure_code": p.failure_code,
        "next_action": {"type": action.get("type"), "url": action.get("url")} if action else None,
        "client_secret": action.get("client_secret") if action else None,
        # Equity only: a reward pledge's answer reads nothing more (the pledge path is measured).
        "cancel_until": iso(commitment_cancel_until(p)) if p.shares is not None and p.status == "held" else None,
        "risks_acknowledged_at": iso(p.risks_acknowledged_at) if p.shares is not None else None,
        # While the commitment waits for reconfirmation after a material change (services/material_changes.py).
        "reconfirm_by": iso(p.reconfirm_by) if p.reconfirm_by is not None and p.status in RECONFIRMABLE else None,
        "reconfirmed_at": iso(p.reconfirmed_at) if p.shares is not None else None,
        "large_investment_acknowledged_at": iso(p.large_investment_acknowledged_at),
        # Release on delivery: only a released reward pledge can have one (so no read otherwise),
        # or one released and then disputed (its delivery waits as `disputed`).
        "delivery": delivery(receipt_delivery(p.id))
        if p.status in ("released", "disputed") and p.shares is None
        else None,
    }


def waiting_change(change, action):
    """A pledge change whose larger total waits for the backer (PATCH /pledges/{id}'s 202)."""
    action = action or {}
    return {
        "number": change.number,
        "status": change.status,
        "next_action": {"type": action["type"], "url": action.get("url")} if action.get("type") else None,
        "client_secret": action.get("client_secret"),
    }


def delivery(d):
    """A pledge's delivery (services/delivery_records.ReceiptDelivery), or None."""
    if d is None:
        return None
    return {
        "status": d.status,
        "held_amount": d.held_amount,
        "currency": d.currency,
        "carrier": d.carrier,
        "tracking": d.tracking,
        "shipped_at": iso(d.shipped_at),
        "confirm_by": iso(d.confirm_by) if d.status == "shipped" else None,
        "problem_reason": d.problem_reason,
        "late": d.late,
    }


def _address(address):
    if not address:
        return None
    return {key: address.get(key) or "" for key in ("name", "line1", "line2", "city", "postal_code", "country")}


def investor_profile(profile, allowance):
    return {
        "currency": profile.currency,
        "annual_income": profile.annual_income,
        "net_worth": profile.net_worth,
        "accredited": bool(profile.accredited),
        "other_investments_12m": profile.other_investments_12m,
        "risk_acknowledged_at": iso(profile.risk_acknowledged_at),
        "updated_at": iso(profile.updated_at),
        "allowance": {
            "limit": allowance.limit,
            "committed": allowance.committed,
            "remaining": allowance.remaining,
            "rates_as_of": allowance.rates_as_of.isoformat() if allowance.rates_as_of else None,
        },
    }


def statement(project_id, data):
    return {
        "project_id": project_id,
        **{key: iso(data[key]) if key in STATEMENT_TIMES else int(data[key]) for key in STATEMENT_KEYS},
        "currency": data["currency"],
        "processor_fees_paid_by": data["processor_fees_paid_by"],
        **{key: int(data[key]) for key in DELIVERY_KEYS},  # release on delivery
        "custodian": data.get("custodian"),
        "funding_model": data["funding_model"],
        "goal_met": data["goal_met"],
    }


def stretch_goal(g):
    return {
        "id": g.id,
        "amount": g.amount,
        "title": g.title,
        "description": g.description or "",
        "reached": g.reached_at is not None,
        "reached_at": iso(g.reached_at),
    }


def holding(h):
    return {
        "firm_id": h.firm_id,
        "project_id": h.project_id,
        "shares": h.shares,
        "price_per_share": h.price_per_share,
        "currency": h.currency,
        "acquired_at": iso(h.acquired_at),
    }
