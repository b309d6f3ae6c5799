"""What the run's logs say ran: the hyperparameters they print and the words their lines start with.

A path of the script the run disabled (`ttt_enabled: False`, `PREQUANT_TTT_ENABLED=0`) or whose
own log lines never appear in any log is code that never ran; the legality rules skip it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

_OFF = {"false", "0", "off", "no", "none", "0.0"}
_ON = {"true", "on", "yes"}


@dataclass
class RunLog:
    """The logs' text; the values they print for a key and the first word of each line, read when asked."""

    texts: dict[str, str] = field(default_factory=dict)
    _values: dict[str, set[str]] = field(default_factory=dict)
    _first_words: list[str] | None = None

    @classmethod
    def from_texts(cls, texts: dict[str, str]) -> "RunLog":
        return cls(texts=dict(texts))

    @property
    def names(self) -> list[str]:
        return sorted(self.texts)

    @property
    def has_logs(self) -> bool:
        return bool(self.texts)

    @property
    def first_words(self) -> list[str]:
        if self._first_words is None:
            words = {m.group(1) for text in self.texts.values() for m in _FIRST_WORD_RE.finditer(text)}
            self._first_words = sorted(words)
        return self._first_words

    def printed(self, word: str) -> bool:
        """Some log line starts with `word` (or a longer word beginning with it)."""
        words = self.first_words
        i = bisect.bisect_left(words, word)
        return i < len(words) and words[i].startswith(word)

    def values(self, key: str) -> set[str]:
        """Every setting-like value the logs print as `key: value` or `key=value` (any case)."""
        key = key.lower()
        if key not in self._values:
            pattern = re.compile(rf"(?<!\w){re.escape(key)}\s*[:=]\s*([^\s,;)]+)", re.IGNORECASE)
            found = set()
            for text in self.texts.values():
                for match in pattern.finditer(text):
                    value = match.group(1).strip("'\"")
                    if _is_setting(value):
                        found.add(value.lower())
            self._values[key] = found
        return self._values[key]

    def flag(self, *keys: str) -> bool | None:
        """True/False when the logs print the setting under one of `keys` with one meaning; None otherwise."""
        seen: set[str] = set()
        for key in keys:
            seen |= self.values(key)
        meanings = {_meaning(v) for v in seen} - {None}
        return meanings.pop() if len(meanings) == 1 else None

    def number(self, *keys: str) -> int | None:
        """The largest whole number the logs print for one of `keys`."""
        found = []
        for key in keys:
            for value in self.values(key):
                try:
                    found.append(int(float(value)))
                except ValueError:
                    continue
        return max(found) if found else None


_FIRST_WORD_RE = re.compile(r"^[ \t]*(\S+)", re.MULTILINE)


def _is_setting(value: str) -> bool:
    low = value.lower()
    return low in _OFF or low in _ON or bool(re.fullmatch(r"-?\d+(\.\d+)?", value))


def _meaning(value: str) -> bool | None:
    if value in _OFF:
        return False
    if value in _ON:
        return True
    try:
        return float(value) != 0
    except ValueError:
        return None


def meaning(value: str | None) -> bool | None:
    return None if value is None else _meaning(value.lower())


__all__ = ["RunLog", "meaning"]
