import io

import pytest

from reconciler.render.style import should_color


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "flag", "environ", "expected"),
    [
        (io.StringIO(), True, {"NO_COLOR": "1"}, True),  # an explicit flag wins
        (_Terminal(), False, {}, False),
        (_Terminal(), None, {"NO_COLOR": ""}, False),  # set, even empty, means no colour
        (_Terminal(), None, {"NO_COLOR": "0"}, False),
        (_Terminal(), None, {"TERM": "dumb"}, False),
        (_Terminal(), None, {"TERM": "xterm-256color"}, True),
        (_Terminal(), None, {}, True),
        (io.StringIO(), None, {}, False),  # a pipe or a file
    ],
)
def test_should_color(
    stream: io.StringIO, flag: bool | None, environ: dict[str, str], expected: bool
) -> None:
    assert should_color(stream, flag, environ) is expected


def test_should_color_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setenv("NO_COLOR", "yes")
    assert should_color(_Terminal(), None) is False
    monkeypatch.delenv("NO_COLOR")
    assert should_color(_Terminal(), None) is True
