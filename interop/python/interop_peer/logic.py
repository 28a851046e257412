"""Pure behaviour of the seed services (SPEC §1.1 and §1.2), free of gRPC so it is unit-testable.

Each function takes the faults that alter it, so the faulty variants live next to the right ones.
"""

from __future__ import annotations

import random

from .faults import Fault, Faults

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
MAX_ARTICLES = 1000
MAX_REPLIES = 10000


class InvalidArgument(ValueError):
    """The request is out of range (→ INVALID_ARGUMENT)."""


class Overflow(ArithmeticError):
    """The result does not fit the reply type (→ OUT_OF_RANGE)."""


def greeting(name: str) -> str:
    return f"Hello, {name}!"


def greeter_say_hello(name: str, faults: Faults) -> str:
    return f"Hello, {name}" if Fault.GREETING_PUNCTUATION in faults else greeting(name)


def greeter_say_hello_again(name: str, faults: Faults) -> str:
    return greeting(name) if Fault.AGAIN_WRONG in faults else f"Hello again, {name}!"


def hello_world_service(name: str, faults: Faults) -> str:
    return f"Hi, {name}!" if Fault.SERVICE_WRONG in faults else greeting(name)


def text_length(text: str, faults: Faults) -> str:
    """Decimal length in Unicode code points (Python's len); the faults count other units."""
    if Fault.LENGTH_BYTES in faults:
        return str(len(text.encode("utf-8")))
    if Fault.LENGTH_UTF16 in faults:
        return str(len(text.encode("utf-16-le")) // 2)
    return str(len(text))


def _in_range(field: str, value: int, high: int | None) -> int:
    """value when 0 <= value <= high (None: no upper bound), else InvalidArgument naming field."""
    if value < 0 or (high is not None and value > high):
        bounds = f"0..{high}" if high is not None else ">= 0"
        raise InvalidArgument(f"{field} must be in {bounds}, got {value}")
    return value


def article_count(article_num: int, faults: Faults) -> int:
    """How many articles UserRecommend returns for article_num (article-limit-low stops at 999)."""
    if Fault.RECOMMEND_NO_VALIDATION in faults:
        return min(max(article_num, 0), MAX_ARTICLES)
    high = MAX_ARTICLES - 1 if Fault.ARTICLE_LIMIT_LOW in faults else MAX_ARTICLES
    return _in_range("article_num", article_num, high)


def random_value(faults: Faults) -> int:
    return 7 if Fault.RANDOM_CONSTANT in faults else random.randrange(1000)


def panda_next(arg: int, faults: Faults) -> int:
    """arg + 1 as an exact int64; the panda-float64 fault rounds through a double."""
    if arg >= INT64_MAX:
        raise Overflow(f"overflow: {arg} + 1 does not fit in int64")
    if Fault.PANDA_FLOAT64 in faults:
        # float(arg) + 1 can round up to 2^63 just below the exact check; keep it an int64.
        return min(int(float(arg) + 1), INT64_MAX)
    return arg + 1


def reply_limit(faults: Faults) -> int | None:
    """The largest count LotsOfReplies accepts: 10000, 9999 under count-limit-low, None (no limit)
    under count-limit-none."""
    if Fault.COUNT_LIMIT_NONE in faults:
        return None
    return MAX_REPLIES - 1 if Fault.COUNT_LIMIT_LOW in faults else MAX_REPLIES


def reply_count(count: int, faults: Faults) -> int:
    """How many replies LotsOfReplies sends for count."""
    _in_range("count", count, reply_limit(faults))
    return max(count - 1, 0) if Fault.STREAM_TRUNCATE in faults else count


def numbered_greeting(name: str, index: int) -> str:
    return f"Hello, {name}! #{index}"


def greetings(names: list[str], faults: Faults) -> str:
    ordered = reversed(names) if Fault.GREETINGS_REVERSED in faults else names
    return f"Hello, {', '.join(ordered)}!"


def is_every_10th(call_number: int, faults: Faults) -> bool:
    """Whether the call_number-th Greeter/SayHello (1-based) fails under the fault."""
    return Fault.UNARY_EVERY_10TH_UNAVAILABLE in faults and call_number % 10 == 0
