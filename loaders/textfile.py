"""Korean text files as city systems export them: UTF-8 (with or without a BOM), or CP949/EUC-KR.

DuckDB reads UTF-8 only (its encodings extension would need the network), so a CP949 file is
decoded once, in pieces, into a UTF-8 copy. A file that decodes but reads as mojibake (UTF-8 bytes
taken for Latin-1 and saved again, CP949 bytes shown as Latin-1, random hanja) is refused with an
example, rather than loading garbage that would only surface as unknown districts.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from loaders.envelope import Outcome
from loaders.seoul_api import FetchError

CHUNK_BYTES = 16 << 20
SNIFF_CHARS = 2_000_000  # mojibake shows in the first rows of a file; checking 2 M characters costs ~50 ms
HANGUL = re.compile("[\uac00-\ud7a3\u3131-\u318e]")
# Latin-1/Latin Extended and C1 controls, hanja, private use and the replacement character: rare in
# Korean administrative text, and exactly what wrongly decoded Korean turns into.
SUSPICIOUS = re.compile("[\u0080-\u024f\u4e00-\u9fff\uf900-\ufaff\ue000-\uf8ff\ufffd]")
MOJIBAKE_SHARE = 0.1


def mojibake(text: str) -> str | None:
    """An example of garbled text when `text` reads as wrongly decoded Korean, else None."""
    suspicious = SUSPICIOUS.findall(text)
    if len(suspicious) < 20:
        return None
    hangul = len(HANGUL.findall(text))
    if len(suspicious) <= MOJIBAKE_SHARE * (hangul + len(suspicious)):
        return None
    at = SUSPICIOUS.search(text).start()
    return text[max(0, at - 10) : at + 20].replace("\n", " ").strip()


def refuse_mojibake(text: str, name: str, encoding: str) -> None:
    example = mojibake(text)
    if example is not None:
        raise FetchError(
            Outcome.PERMANENT,
            f"{name}: read as {encoding} the text is garbled (mojibake), e.g. {example!r}; "
            "export it again as UTF-8 or CP949",
        )


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _head(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, errors="replace") as f:
        return f.read(SNIFF_CHARS)


def utf8_source(path: Path, copy: Path) -> tuple[Path, str]:
    """A UTF-8 version of a text file and the encoding it was in: the file itself when it is
    UTF-8, else a UTF-8 copy written to `copy`. Refuses other encodings and mojibake."""
    with open(path, "rb") as f:
        start = f.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FetchError(Outcome.PERMANENT, f"{path.name}: UTF-16 text; export it again as UTF-8 or CP949")
    if _decodes(path, "utf-8"):
        refuse_mojibake(_head(path, "utf-8-sig"), path.name, "UTF-8")
        return path, "utf-8"
    if not _decodes(path, "cp949"):
        raise FetchError(Outcome.PERMANENT, f"{path.name}: neither UTF-8 nor CP949/EUC-KR text")
    refuse_mojibake(_head(path, "cp949"), path.name, "CP949")
    decoder = codecs.getincrementaldecoder("cp949")()
    with open(path, "rb") as src, open(copy, "w", encoding="utf-8", newline="") as out:
        while chunk := src.read(CHUNK_BYTES):
            out.write(decoder.decode(chunk))
        out.write(decoder.decode(b"", final=True))
    return copy, "cp949"
