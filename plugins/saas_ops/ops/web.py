"""The pack's web endpoints, served by Airflow's API server under /saas-ops (plugins/saas_ops_plugin.py).

- `GET /saas-ops/`: the SaaS Ops page (report.py), shown in the UI's navigation; `?month=YYYY-MM` picks the
  month of the MRR waterfall;
- `GET /saas-ops/api/figures`: the same figures as JSON;
- `GET /saas-ops/unsubscribe?t=<token>`: a page with one button (a link scanner that follows links in an
  email must not unsubscribe anyone, so GET changes nothing);
- `POST /saas-ops/unsubscribe?t=<token>`: unsubscribes, from that button or from a mail client's one-click
  request (RFC 8058: body `List-Unsubscribe=One-Click`). The token is signed (recipients.unsubscribe_token);
  the user's address goes on `email_suppressions` with reason `unsubscribed`.

The unsubscribe endpoints are public on purpose (the people who click them have no Airflow account): they
accept nothing but a signed token; expose them to the internet through a proxy that forwards only
/saas-ops/unsubscribe (README, Campaigns). The others need the Airflow session (the `_token` cookie the UI
sets, or a bearer token), and show each section only to a user whom Airflow's auth manager lets edit the DAG
that builds it (SECTIONS): revenue and customer names are not for every signed-in viewer. A user who may see no
section gets 403.
"""

from __future__ import annotations

import html
import re
from typing import Any

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse

app = FastAPI(title="SaaS Ops", docs_url=None, redoc_url=None, openapi_url=None)
# Each section of the page, and the DAG whose edit permission shows it (the auth manager's role for running it:
# User, Op and Admin; not Viewer).
SECTIONS = {"revenue": "saas_mrr", "engagement": "saas_engagement", "churn": "churn_score",
            "campaigns": "reengagement_campaigns", "support": "saas_support", "backups": "db_backup"}


def visible_sections(user: GetUserDep) -> set[str]:
    """The sections the signed-in user may see; 403 when none."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    manager = get_auth_manager()
    allowed = {section for section, dag_id in SECTIONS.items()
               if manager.is_authorized_dag(method="PUT", details=DagDetails(id=dag_id), user=user)}
    if not allowed:
        raise HTTPException(403, "The SaaS Ops page shows business figures: it needs edit access to one of the DAGs "
                                 f"{', '.join(SECTIONS.values())} (Airflow roles User, Op or Admin)")
    return allowed


def _visible(data: dict[str, Any], sections: set[str]) -> dict[str, Any]:
    hidden = sorted(set(SECTIONS) - sections)
    return {**data, **dict.fromkeys(hidden), "hidden": hidden}


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport"
content="width=device-width"><title>{title}</title></head><body style="font-family:-apple-system,Segoe UI,Helvetica,
Arial,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933"><h1 style="font-size:1.4rem">{title}
</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def _user(token: str) -> str | None:
    from saas_ops.campaigns import recipients

    return recipients.user_of_token(token, recipients.signing_key())


@app.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(t: str = Query("", max_length=400)) -> HTMLResponse:
    if _user(t) is None:
        return _page("This link is not valid", "<p>The unsubscribe link is incomplete or was changed. Please use "
                     "the link from the email itself.</p>", 400)
    return _page("Unsubscribe", '<p>Stop receiving these emails?</p><form method="post"><button type="submit" '
                 'style="padding:.6rem 1.2rem;font-size:1rem">Unsubscribe</button></form>')


@app.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe(t: str = Query("", max_length=400)) -> HTMLResponse:
    from saas_ops import config
    from saas_ops.campaigns import recipients

    user_id = _user(t)
    if user_id is None:
        return _page("This link is not valid", "<p>The unsubscribe link is incomplete or was changed.</p>", 400)
    recipients.unsubscribe(user_id, schema=config.schema_name("OUTPUT_SCHEMA"),
                           source_schema=config.schema_name("SOURCE_SCHEMA"))
    return _page("You are unsubscribed", "<p>You will not get these emails any more.</p>")


def _month(month: str | None) -> str | None:
    if month and not re.fullmatch(r"\d{4}-\d{2}", month):
        raise HTTPException(422, "month must be YYYY-MM")
    return month


@app.get("/", response_class=HTMLResponse)
def page(month: str | None = None, sections: set[str] = Depends(visible_sections)) -> HTMLResponse:
    from saas_ops.ops import report

    return HTMLResponse(report.render_html(_visible(report.read_figures(_month(month)), sections)))


@app.get("/api/figures")
def figures(month: str | None = None, sections: set[str] = Depends(visible_sections)) -> dict[str, Any]:
    from saas_ops.ops import report

    return _visible(report.read_figures(_month(month)), sections)
