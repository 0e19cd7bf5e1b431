"""The doctests of the small helper modules (C spellings, element widths) run with the suite."""

import doctest

import pytest

from feagi_embed.codegen import cgen
from feagi_embed.plan import widths


@pytest.mark.parametrize("module", [cgen, widths], ids=lambda m: m.__name__)
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
