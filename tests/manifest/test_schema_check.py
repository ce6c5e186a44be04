"""How schema problems are worded: suggestions for a misspelt word, type mismatches."""

import difflib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.manifest.schema_check import SchemaChecker, check, did_you_mean, edit_distance

words = st.text(st.sampled_from("abcdeAB-1"), max_size=8)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("us-esat-1", "us-east-1", 1),
        ("ab", "ba", 1),
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "abc", 0),
        ("ca", "abc", 3),  # restricted: a swapped pair is not edited again
    ],
)
def test_a_swap_of_two_adjacent_letters_is_one_edit(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


@pytest.mark.parametrize("choices", [["us-west-1", "us-east-1"], ["us-east-1", "us-west-1"]])
def test_a_swapped_pair_suggests_the_word_it_was_meant_to_be(choices: list[str]) -> None:
    assert did_you_mean("us-esat-1", choices) == "us-east-1"


def test_a_misspelt_field_gets_the_closest_name() -> None:
    assert did_you_mean("hnadler_type", ["key", "handler_type", "trigger_type"]) == "handler_type"


def test_a_case_only_difference_gets_the_choice_as_written() -> None:
    assert did_you_mean("KEY", ["url", "key"]) == "key"


@pytest.mark.parametrize("choices", [["key", "url"], []])
def test_nothing_close_suggests_nothing(choices: list[str]) -> None:
    assert did_you_mean("zzzz", choices) is None


def test_choices_may_be_read_only_once() -> None:
    assert did_you_mean("KEY", (name for name in ["url", "key"])) == "key"


@given(words, st.lists(words, max_size=6))
def test_thresholds_and_ties_are_difflibs(word: str, choices: list[str]) -> None:
    """Only the ranking among difflib's close matches changed: same cut-off, same ties."""
    close = difflib.get_close_matches(word, choices, n=max(len(choices), 1), cutoff=0.6)
    guess = did_you_mean(word, choices)
    if not close:
        folded = [choice for choice in choices if choice.lower() == word.lower()]
        assert guess == (folded[0] if folded else None)
        return
    fewest = min(edit_distance(word, choice) for choice in close)
    assert guess == next(choice for choice in close if edit_distance(word, choice) == fewest)


SETTINGS = SchemaChecker.of(
    {
        "type": "object",
        "properties": {
            "port": {"type": "integer"},
            "ratio": {"type": "number"},
            "enabled": {"type": "boolean"},
            "limits": {"type": ["integer", "boolean"]},
        },
    }
)
ENV_TEXT = "; environment references always produce text, so write {} itself in the manifest"


@pytest.mark.parametrize(
    ("field", "expected", "literal"),
    [
        ("port", "an integer", "the number"),
        ("ratio", "a number", "the number"),
        ("enabled", "true or false", "true or false"),
        ("limits", "an integer or true or false", "the value"),
    ],
)
def test_an_env_reference_where_no_text_is_allowed_says_to_write_the_value(
    field: str, expected: str, literal: str
) -> None:
    (problem,) = check(SETTINGS, {field: "${env:SETTING}"})
    assert problem.path == (field,)
    assert problem.message == (
        f'expected {expected}, got "${{env:SETTING}}"' + ENV_TEXT.format(literal)
    )


@pytest.mark.parametrize("text", ["abc", "$${env:SETTING}", "${env"])
def test_other_text_where_no_text_is_allowed_is_worded_as_before(text: str) -> None:
    (problem,) = check(SETTINGS, {"port": text})
    assert problem.message == f"expected an integer, got {json.dumps(text)}"
