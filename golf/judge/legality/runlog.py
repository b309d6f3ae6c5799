"""What the run's logs say ran: the hyperparameters they print and the words their lines start with.

A path of the script the run disabled (`ttt_enabled: False`, `PREQUANT_TTT_ENABLED=0`) or whose
own log lines never appear in any log is code that never ran; the legality rules skip it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

_KV_RE = re.compile(r"([A-Za-z_][\w.]*)\s*[:=]\s*([^\s,;)]+)")
_OFF = {"false", "0", "off", "no", "none", "0.0"}
_ON = {"true", "on", "yes"}


@dataclass
class RunLog:
    """Values the logs print (key -> every value seen) and the first word of each of their lines."""

    values: dict[str, set[str]] = field(default_factory=dict)
    first_words: list[str] = field(default_factory=list)   # sorted, for prefix search
    names: list[str] = field(default_factory=list)         # the log files read

    @classmethod
    def from_texts(cls, texts: dict[str, str]) -> "RunLog":
        view = cls(names=sorted(texts))
        words: set[str] = set()
        for text in texts.values():
            for line in text.splitlines():
                stripped = line.strip()
                if not stripped:
                    continue
                words.add(stripped.split(None, 1)[0])
                if len(stripped) > 400:
                    continue
                for key, value in _KV_RE.findall(stripped):
                    value = value.strip("'\"")
                    if _is_setting(value):
                        view.values.setdefault(key.split(".")[-1].lower(), set()).add(value.lower())
        view.first_words = sorted(words)
        return view

    @property
    def has_logs(self) -> bool:
        return bool(self.names)

    def printed(self, word: str) -> bool:
        """Some log line starts with `word` (or a longer word beginning with it)."""
        i = bisect.bisect_left(self.first_words, word)
        return i < len(self.first_words) and self.first_words[i].startswith(word)

    def flag(self, *keys: str) -> bool | None:
        """True/False when the logs print the setting under one of `keys` with one meaning; None otherwise."""
        seen = set()
        for key in keys:
            seen |= self.values.get(key.lower(), set())
        meanings = {_meaning(v) for v in seen} - {None}
        return meanings.pop() if len(meanings) == 1 else None

    def number(self, *keys: str) -> int | None:
        """The largest whole number the logs print for one of `keys`."""
        found = []
        for key in keys:
            for value in self.values.get(key.lower(), ()):
                try:
                    found.append(int(float(value)))
                except ValueError:
                    continue
        return max(found) if found else None


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
