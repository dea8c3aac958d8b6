"""Evidence files on disk: stored under generated names outside the web root, hashed while
written, typed by their content (never by their name), and re-hashed on every read.

Any file is accepted (source code is what a trade-secret case is about): the type recognised
from the leading bytes (ZIP containers by their member names, so no libmagic is needed), UTF-8
text, or else application/octet-stream is recorded, and a download is always served as an
opaque attachment, whatever was recorded.
"""
from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

CHUNK = 64 * 1024
MAX_NAME = 120

# Recognised types -> the extension a file without one is named with.
OPAQUE = "application/octet-stream"
TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "application/zip": ("zip",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "text/plain": ("txt", "csv", "log", "md", "json", "xml"),
    "video/mp4": ("mp4", "m4v", "mov"),
    "audio/mpeg": ("mp3",),
}
# Characters that mean something to a file system or a shell on some platform.
_RESERVED = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
# Text may hold tabs, line and page breaks; any other control character makes it binary.
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class FileTooLarge(Exception):
    """More bytes than the configured limit."""


class UnsupportedFile(Exception):
    """Empty, or a ZIP archive that is not one."""


@dataclass(frozen=True)
class StoredFile:
    storage_name: str
    sha256: str
    size: int
    content_type: str
    original_name: str


class EvidenceStore:
    """The folder that holds evidence files and the largest file it accepts."""

    def __init__(self, root: Path | str, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path(self, storage_name: str) -> Path:
        # Names are generated hex; refuse anything else so a forged row cannot point elsewhere.
        if not re.fullmatch(r"[0-9a-f]{32}", storage_name):
            raise ValueError(f"not a storage name: {storage_name!r}")
        return self.root / storage_name

    def save(self, stream: BinaryIO, filename: str) -> StoredFile:
        """Copy the upload into the store; the caller deletes it if its transaction fails."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FileTooLarge(f"the file is larger than {self.max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise UnsupportedFile("the file is empty")
            content_type = detect_type(Path(tmp))
            name = neutral_name(filename, content_type)
            storage_name = uuid.uuid4().hex
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path(storage_name))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredFile(storage_name, digest.hexdigest(), size, content_type, name)

    def discard(self, storage_name: str) -> None:
        self.path(storage_name).unlink(missing_ok=True)

    def verified_copy(self, storage_name: str) -> tuple[BinaryIO, str]:
        """A copy of the file and its SHA-256, computed over exactly the bytes of the copy, so
        what is served is what was checked even if the file changes meanwhile."""
        digest = hashlib.sha256()
        copy = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - returned open to the caller
        try:
            with open(self.path(storage_name), "rb") as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    copy.write(chunk)
        except FileNotFoundError:
            copy.close()
            raise
        copy.seek(0)
        return cast(BinaryIO, copy), digest.hexdigest()

    def hash_of(self, storage_name: str) -> str | None:
        """The file's current SHA-256, or None if it is gone."""
        try:
            copy, sha = self.verified_copy(storage_name)
        except FileNotFoundError:
            return None
        copy.close()
        return sha


def detect_type(path: Path) -> str:
    """The content type of a file from its bytes: a recognised type, text/plain for UTF-8 text,
    else application/octet-stream; UnsupportedFile for a broken ZIP archive."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if _is_text(path):
        return "text/plain"
    return OPAQUE


def _zip_type(path: Path) -> str:
    # Only the central directory is read; nothing is extracted.
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsupportedFile("the file starts like a ZIP archive but is not one") from exc
    if "word/document.xml" in names:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if "xl/workbook.xml" in names:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "application/zip"


def _is_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                if _TEXT_CONTROLS.search(decoder.decode(chunk)):
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def neutral_name(filename: str | None, content_type: str) -> str:
    """The uploaded name made harmless: no folders, no control or bidi-override characters,
    nothing a file system reserves, no leading dots, at most MAX_NAME characters. The extension
    is kept whatever the content (it is never used to serve the file); a name without one gets
    the recognised type's."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    # Cc: control characters (NUL...); Cf: format characters such as U+202E RIGHT-TO-LEFT
    # OVERRIDE, which make "gpj.exe" display as "exe.jpg".
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = _RESERVED.sub("_", name)
    name = " ".join(name.split()).lstrip(". ").rstrip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext.lower()[:16] or TYPES.get(content_type, ("",))[0]
    stem = (stem or "evidence")[: MAX_NAME - len(ext) - 1].rstrip(". ") or "evidence"
    return f"{stem}.{ext}" if ext else stem
