"""The one jinja2 environment of every emitter (Brian2 style: ``StrictUndefined``, ``trim_blocks``,
``lstrip_blocks``), loading from ``templates/`` (``c/…``, ``micropython/…``, ``platformio/…``)."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from ..resources import templates_dir


@lru_cache(maxsize=4)
def _env(root: str) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(root), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              autoescape=False)


def jinja_env() -> jinja2.Environment:
    """The shared environment (templates by path relative to ``templates/``)."""
    return _env(str(templates_dir()))


def render(template: str, **context) -> str:
    """Render ``templates/<template>`` with ``context``.

    Raises:
        jinja2.UndefinedError: the template uses a name ``context`` lacks.
    """
    return jinja_env().get_template(template).render(**context)
