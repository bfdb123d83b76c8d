"""English number words, both ways, for the `words_to_number` canary and its solver.

    to_words(12345)                                   # "twelve thousand three hundred forty-five"
    from_words("twelve thousand three hundred forty-five")   # 12345

American style without "and", hyphenated tens ("forty-five"), up to 999,999,999.
"""

from __future__ import annotations

_ONES = (  # noqa: SIM905 (a sentence of words reads better than a column of them)
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()  # noqa: SIM905
_SCALES = ((1_000_000, "million"), (1_000, "thousand"))
MAX = 999_999_999

_SMALL = {word: value for value, word in enumerate(_ONES)} | {
    word: 10 * i for i, word in enumerate(_TENS) if i >= 2
}
_SCALE = {word: value for value, word in _SCALES}


def to_words(n: int) -> str:
    """`n` (0 ≤ n ≤ 999,999,999) in English words."""
    if not 0 <= n <= MAX:
        raise ValueError(f"{n} is outside 0..{MAX}")
    if n == 0:
        return "zero"
    parts = []
    for scale, name in _SCALES:
        if n >= scale:
            parts.append(f"{_below_thousand(n // scale)} {name}")
            n %= scale
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        parts.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest:
        parts.append(_ONES[rest])
    return " ".join(parts)


def from_words(text: str) -> int | None:
    """The number `text` spells (as `to_words` writes it, also with "and" or commas), else None."""
    words = text.lower().replace(",", " ").replace("-", " ").split()
    total = current = 0
    seen = False
    for word in words:
        if word == "and":
            continue
        if word in _SMALL:
            current += _SMALL[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALE:
            total += max(current, 1) * _SCALE[word]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None
