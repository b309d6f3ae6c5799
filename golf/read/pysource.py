"""A Python script's text as the interpreter reads it: the PEP 263 coding cookie decides the decoding.

A script with `# -*- coding: utf-7 -*-` runs code that a UTF-8 reading does not show (`+AAo-` is a
newline in UTF-7), so golf decodes the way Python does and reports any encoding other than UTF-8.
Only the first two lines are inspected (tokenize.detect_encoding); nothing is executed.
"""

from __future__ import annotations

import io
import tokenize

UTF8_NAMES = ("utf-8", "utf-8-sig")


def source_encoding(data: bytes) -> str:
    """The encoding Python uses for a script of these bytes; ValueError when it would refuse it."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:  # an unknown encoding, or a cookie contradicting a BOM
        raise ValueError(error.msg if hasattr(error, "msg") else str(error)) from None
    return encoding


def decode_source(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a script as Python would decode it. Raises ValueError (UnicodeDecodeError
    included) when Python could not decode it either."""
    encoding = source_encoding(data)
    text = data.decode(encoding)
    return text, encoding
