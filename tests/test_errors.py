"""describe(): every TrackerError as a message, lines before it, and problems by field."""

from __future__ import annotations

from tracker.errors import Description, InvalidInput, NotFound, Problem, TrackerError, WriterBusy, describe


def test_problems_in_a_file_are_one_line_each_then_a_count() -> None:
    exc = InvalidInput(
        [
            Problem(
                "claims.yaml", 42, "claims[3].resolution.deadline", "2017-01-01 is before made_on 2017-11-16"
            ),
            Problem("claims.yaml", 7, "claims[0].id", "duplicate id; first used on line 3"),
        ]
    )
    assert describe(exc) == Description(
        "2 problems found; nothing was written",
        [
            "claims.yaml:7: claims[0].id: duplicate id; first used on line 3",
            "claims.yaml:42: claims[3].resolution.deadline: 2017-01-01 is before made_on 2017-11-16",
        ],
        {
            "claims[0].id": ["duplicate id; first used on line 3"],
            "claims[3].resolution.deadline": ["2017-01-01 is before made_on 2017-11-16"],
        },
    )


def test_problems_with_fields_are_one_line_and_kept_by_field() -> None:
    exc = InvalidInput(
        [
            Problem.at("source", "no source 'sion' (did you mean 'sino'?)"),
            Problem.at("probability", "probability 1.5 is outside [0, 1]"),
            Problem.at("probability", "a second problem with it"),
        ],
        "claim 'x'",
    )
    described = describe(exc)
    assert described.message == (
        "claim 'x': a second problem with it; probability 1.5 is outside [0, 1]; "
        "no source 'sion' (did you mean 'sino'?)"
    )
    assert str(exc) == described.message
    assert described.details == []
    assert described.fields == {
        "probability": ["a second problem with it", "probability 1.5 is outside [0, 1]"],
        "source": ["no source 'sion' (did you mean 'sino'?)"],
    }
    assert str(exc.problems[0]) == "probability: a second problem with it"


def test_other_errors_are_their_message() -> None:
    assert describe(NotFound("no claim 'x'")) == Description("no claim 'x'")
    assert describe(WriterBusy("waited 10.0 s")).message == "waited 10.0 s"
    # A TrackerError is one line by contract; a multi-line one keeps its last line as the error.
    assert describe(TrackerError("first\n\nsecond")) == Description("second", ["first"])
