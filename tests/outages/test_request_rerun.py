"""A request whose database connection dropped before it committed anything is run once more,
from the start, as if it had just arrived: an uploaded file is read again from its first byte."""

import io

from crowdfund.models import ProjectDocument
from crowdfund.services.projects import documents
from tests.conftest import csrf_token
from tests.outages.test_payment_outages import drop_connection
from tests.support.factories import PDF_BYTES


def test_an_upload_run_again_stores_the_whole_file(client, make, login, db, monkeypatch):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner), kind="equity", complete=False)
    token = csrf_token(client, f"/projects/{project.id}/edit")
    tries = drop_connection(monkeypatch, documents, "current_documents", times=1)  # once the file was read

    response = client.post(
        f"/projects/{project.id}/documents",
        content_type="multipart/form-data",
        data={
            "kind": "business_plan",
            "file": (io.BytesIO(PDF_BYTES), "plan.pdf", "application/pdf"),
            "csrf_token": token,
        },
    )

    assert response.status_code == 302 and len(tries) > 1
    document = db.session.query(ProjectDocument).one()
    assert (document.filename, document.size) == ("plan.pdf", len(PDF_BYTES))
