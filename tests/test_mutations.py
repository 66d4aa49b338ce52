"""The mutation check (``tests/mutations.py``) runs from a clean tree and says what it finds."""

import pytest

from tests import mutations


def test_every_mutation_still_applies_to_the_code():
    for mutation in mutations.MUTATIONS:
        text = (mutations.ROOT / mutation.file).read_text()
        assert text.count(mutation.old) == 1, f"{mutation.name}: the code moved; update tests/mutations.py"
        for test in mutation.tests:
            file, _, name = test.partition("::")
            assert (mutations.ROOT / file).is_file(), test
            assert not name or f"def {name.split('[')[0]}(" in (mutations.ROOT / file).read_text(), test


@pytest.mark.slow
def test_a_planted_bug_is_caught_and_reported(capsys):
    assert mutations.main(["JPEG draft"]) == 0
    out = capsys.readouterr().out
    assert (
        "| JPEG draft removed: large photos decode whole | nst/base/images.py |" in out
        and "| killed |" in out
    )
    assert "1 of 1 killed in " in out
