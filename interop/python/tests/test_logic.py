"""Unit tests of the services' pure logic, right and faulty."""

from __future__ import annotations

import pytest

from interop_peer import logic
from interop_peer.faults import Fault

NONE: frozenset[Fault] = frozenset()


@pytest.mark.parametrize(
    ("text", "code_points", "utf16", "utf8"),
    [("", "0", "0", "0"), ("123456", "6", "6", "6"), ("你好😈", "3", "4", "10"), ("é😈😈", "3", "5", "10")],
)
def test_text_length_counts_code_points(text: str, code_points: str, utf16: str, utf8: str) -> None:
    assert logic.text_length(text, NONE) == code_points
    assert logic.text_length(text, frozenset({Fault.LENGTH_UTF16})) == utf16
    assert logic.text_length(text, frozenset({Fault.LENGTH_BYTES})) == utf8


@pytest.mark.parametrize(
    ("arg", "reply"),
    [
        (123, 124),
        (-1, 0),
        (9007199254740993, 9007199254740994),
        (-(2**63), -(2**63) + 1),
        (2**63 - 2, 2**63 - 1),
    ],
)
def test_panda_adds_one_exactly(arg: int, reply: int) -> None:
    assert logic.panda_next(arg, NONE) == reply


def test_panda_overflow_is_detected_even_with_the_float_fault() -> None:
    for faults in (NONE, frozenset({Fault.PANDA_FLOAT64})):
        with pytest.raises(logic.Overflow, match="overflow"):
            logic.panda_next(2**63 - 1, faults)


def test_panda_float64_fault_loses_precision_but_stays_int64() -> None:
    faults = frozenset({Fault.PANDA_FLOAT64})
    assert logic.panda_next(123, faults) == 124
    assert logic.panda_next(9007199254740993, faults) == 9007199254740992
    assert logic.panda_next(-(2**63), faults) == -(2**63)
    assert logic.panda_next(2**63 - 2, faults) == logic.INT64_MAX


@pytest.mark.parametrize("article_num", [0, 1, 10, 1000])
def test_article_count_in_range(article_num: int) -> None:
    assert logic.article_count(article_num, NONE) == article_num


@pytest.mark.parametrize("article_num", [-1, -(2**31), 1001, 2**31 - 1])
def test_article_count_out_of_range_names_the_field(article_num: int) -> None:
    with pytest.raises(logic.InvalidArgument, match="article_num"):
        logic.article_count(article_num, NONE)


def test_article_count_without_validation_clamps() -> None:
    faults = frozenset({Fault.RECOMMEND_NO_VALIDATION})
    assert logic.article_count(-1, faults) == 0
    assert logic.article_count(1001, faults) == 1000
    assert logic.article_count(10, faults) == 10


def test_reply_count_range_and_truncation() -> None:
    assert logic.reply_count(0, NONE) == 0
    assert logic.reply_count(10000, NONE) == 10000
    for count in (-5, 10001):
        with pytest.raises(logic.InvalidArgument, match="count"):
            logic.reply_count(count, NONE)
    truncate = frozenset({Fault.STREAM_TRUNCATE})
    assert logic.reply_count(5, truncate) == 4
    assert logic.reply_count(0, truncate) == 0


def test_greetings() -> None:
    assert logic.greeter_say_hello("世界🌏", NONE) == "Hello, 世界🌏!"
    assert logic.greeter_say_hello("a", frozenset({Fault.GREETING_PUNCTUATION})) == "Hello, a"
    assert logic.greeter_say_hello_again("a", NONE) == "Hello again, a!"
    assert logic.greeter_say_hello_again("a", frozenset({Fault.AGAIN_WRONG})) == "Hello, a!"
    assert logic.hello_world_service("shen", NONE) == "Hello, shen!"
    assert logic.hello_world_service("shen", frozenset({Fault.SERVICE_WRONG})) == "Hi, shen!"
    assert logic.numbered_greeting("a", 3) == "Hello, a! #3"
    assert logic.greetings(["a", "b", "c"], NONE) == "Hello, a, b, c!"
    assert logic.greetings([], NONE) == "Hello, !"
    assert logic.greetings(["a", "b", "c"], frozenset({Fault.GREETINGS_REVERSED})) == "Hello, c, b, a!"


def test_random_value() -> None:
    values = {logic.random_value(NONE) for _ in range(200)}
    assert all(0 <= value < 1000 for value in values) and len(values) > 1
    assert logic.random_value(frozenset({Fault.RANDOM_CONSTANT})) == 7


def test_every_10th_call() -> None:
    faults = frozenset({Fault.UNARY_EVERY_10TH_UNAVAILABLE})
    assert [n for n in range(1, 31) if logic.is_every_10th(n, faults)] == [10, 20, 30]
    assert not any(logic.is_every_10th(n, NONE) for n in range(1, 31))


def test_count_limit_faults_move_the_upper_bound() -> None:
    assert logic.reply_limit(NONE) == 10000
    low = frozenset({Fault.COUNT_LIMIT_LOW})
    assert logic.reply_limit(low) == 9999 and logic.reply_count(9999, low) == 9999
    with pytest.raises(logic.InvalidArgument, match="count must be in 0..9999, got 10000"):
        logic.reply_count(10000, low)
    unlimited = frozenset({Fault.COUNT_LIMIT_NONE})
    assert logic.reply_limit(unlimited) is None and logic.reply_count(10001, unlimited) == 10001
    with pytest.raises(logic.InvalidArgument, match="count"):
        logic.reply_count(-5, unlimited)  # the lower bound stays


def test_article_limit_low_rejects_1000() -> None:
    low = frozenset({Fault.ARTICLE_LIMIT_LOW})
    assert logic.article_count(999, low) == 999
    with pytest.raises(logic.InvalidArgument, match="article_num must be in 0..999, got 1000"):
        logic.article_count(1000, low)
