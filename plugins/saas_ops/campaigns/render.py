"""An email of a campaign, rendered from its templates (include/templates/) with the recipient's values."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

TEMPLATE_OF = {"inactive_30": "inactive", "inactive_60": "inactive", "inactive_90": "inactive"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _nice_date(value: Any) -> str:
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day:%A} {day.day} {day:%B %Y}"


def _money(cents: Any, currency: str) -> str:
    from saas_ops.alerts import money

    return money(int(cents), currency)


@functools.lru_cache(maxsize=4)
def _environment(folder: str) -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), undefined=jinja2.StrictUndefined,
                             autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True)
    env.filters.update(money=_money, nice_date=_nice_date)
    return env


def template_name(campaign: str, variant: str = "default") -> str:
    """A campaign's templates are <name>.txt and <name>.html; a variant's, <name>.<variant>.txt and .html."""
    name = TEMPLATE_OF.get(campaign, campaign)
    return name if variant == "default" else f"{name}.{variant}"


def render(campaign: str, variables: dict[str, Any], variant: str = "default") -> Rendered:
    """The email's subject, plain text and HTML. A variable the template uses and `variables` lacks raises
    jinja2's UndefinedError (StrictUndefined): an email with a hole is never sent."""
    from saas_ops import config

    env = _environment(str(config.include_dir() / "templates" / "email"))
    name = template_name(campaign, variant)
    values = {"campaign": campaign, **variables}
    text = env.get_template(f"{name}.txt").make_module(values)
    subject = " ".join(str(text.subject).split())
    if not subject:
        raise ValueError(f"template {name}.txt sets no subject")
    return Rendered(subject, str(text).strip() + "\n", env.get_template(f"{name}.html").render(values))
