"""The emit stage: a :class:`~feagi_embed.model.Model` and its :class:`~feagi_embed.plan.Plan` →
source files. :mod:`.c` (C firmware), :mod:`.micropython` (MicroPython package), :mod:`.cgen`
(C spelling helpers, with doctests), :mod:`.env` (the one jinja2 environment). Emitters read only
the Model and the Plan."""

from .c import emit_c_model
from .micropython import emit_micropython

__all__ = ["emit_c_model", "emit_micropython"]
