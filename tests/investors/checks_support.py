"""Passing the checks some rulebooks ask for, through the API as an investor would."""

import io

from crowdfund.services import qualifications
from tests.api.conftest import PREFIX

RIGHT_ANSWERS = {"q1": "b", "q2": "b", "q3": "c", "q4": "b", "q5": "a"}
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def upload_proof(
    client,
    token,
    *,
    basis="financial_assets",
    amount=300_000_000,
    content=MINIMAL_PDF,
    name="bank.pdf",
    mimetype="application/pdf",
):
    return client.post(
        PREFIX + "/me/qualification",
        data={"basis": basis, "amount": str(amount), "file": (io.BytesIO(content), name, mimetype)},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def complete_checks(api, db, make, token, key, *, net_worth=0, currency="EUR"):
    """eu_ecsp: the test and the simulation; cn: a proof an admin approves. Nothing otherwise."""
    if key == "eu_ecsp":
        passed = api.post("/me/knowledge-test", {"answers": RIGHT_ANSWERS}, token=token)
        assert passed.status_code == 200 and passed.get_json()["passed"], passed.get_json()
        simulated = api.post(
            "/me/loss-simulation", {"net_worth": net_worth, "currency": currency, "acknowledge": True}, token=token
        )
        assert simulated.status_code == 200, simulated.get_json()
    elif key == "cn":
        sent = upload_proof(api.client, token)
        assert sent.status_code == 201, sent.get_json()
        qualifications.approve(make.admin(), sent.get_json()["id"])
        db.session.commit()
