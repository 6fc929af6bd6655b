"""The text of a user's profile, scenario or manifest file, in the encoding its byte-order
mark names: UTF-8 without or with one (a Windows editor's), or UTF-16 and UTF-32 with one
(PowerShell's `>` and Notepad's "Unicode" write UTF-16 with a mark). Without a mark, UTF-16
and UTF-32 are told from the NUL bytes of the first four (as RFC 4627 tells JSON's: its
first two characters are ASCII, and no UTF-8 profile or scenario holds a NUL); anything else
must be UTF-8."""

from __future__ import annotations

import codecs
import os
import re
import sys
from pathlib import Path

# longest mark first: UTF-32 LE's mark begins with UTF-16 LE's
_MARKS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
          (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
          (codecs.BOM_UTF16_BE, "utf-16-be"))
# where the first four bytes are NUL (True) in each encoding without a mark
_NULS = {(True, True, True, False): "utf-32-be", (False, True, True, True): "utf-32-le",
         (True, False, True, False): "utf-16-be", (False, True, False, True): "utf-16-le"}


def read_bounded(path: str | Path, limit: int) -> bytes | None:
    """The file's bytes, or None when it holds more than `limit`: read up to one byte past
    the limit, never by its stated size (a device such as /dev/zero states 0 and never
    ends, a pipe states none)."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size > limit:  # (a regular file: said without reading)
            return None
        data = file.read(limit + 1)
    return None if len(data) > limit else data


def decoded(data: bytes) -> str:
    """`data` as text, in the encoding of its byte-order mark (UTF-8 without one), the mark
    left out; raises UnicodeDecodeError (naming that encoding) for bytes that are not."""
    for mark, encoding in _MARKS:
        if data.startswith(mark):
            return data[len(mark):].decode(encoding)
    return data.decode(_NULS.get(tuple(b == 0 for b in data[:4]), "utf-8"))


def undecodable(error: UnicodeDecodeError) -> str:
    """What is wrong with a file that `decoded` refused, said for a user."""
    if error.encoding.replace("_", "-").lower() == "utf-8":
        return (f"the file is not UTF-8 text (byte {error.start}: 0x{error.object[error.start]:02x}"
                "; UTF-16 and UTF-32 are read too, told by a byte-order mark or the NUL bytes "
                "of the first characters)")
    return f"the file is not {error.encoding.upper()} text, as its first bytes say " \
           f"(byte {error.start})"


def number_problem(error: ValueError) -> str:
    """A parser's ValueError said for a user: an integer of more digits than Python converts
    is named as such (Python's own text tells the reader to call sys.set_int_max_str_digits,
    which a user of the command line cannot)."""
    found = re.search(r"value has (\d+) digits", str(error))
    if found:
        return (f"a number of {found.group(1)} digits (at most "
                f"{sys.get_int_max_str_digits()} are read)")
    return str(error)
