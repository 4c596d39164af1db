"""Registers the pack's web endpoints (saas_ops/ops/web.py) with Airflow's API server, under /saas-ops, and puts
its "SaaS Ops" page into the UI's navigation."""

from airflow.plugins_manager import AirflowPlugin


class SaasOpsPlugin(AirflowPlugin):
    name = "saas_ops"

    @property
    def fastapi_apps(self) -> list[dict]:  # imported only when the API server asks, not by every parse
        from saas_ops.ops.web import app

        return [{"app": app, "url_prefix": "/saas-ops", "name": "SaaS Ops"}]

    external_views = [{"name": "SaaS Ops", "href": "saas-ops/", "destination": "nav", "url_route": "saas-ops"}]
