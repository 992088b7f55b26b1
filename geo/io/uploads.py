"""Checks for files that arrive from outside: size limits and safe zip extraction.

The CLI reads files the user already has; the HTTP API (``POST /api/imports``) receives
uploads from browsers. Both go through these functions, so a zip cannot write outside its
folder (``../`` or absolute member names, symbolic links), cannot expand into a
decompression bomb, and an oversized file is refused before it is parsed.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geo.errors import TooLarge, ValidationError

MiB = 1024 * 1024

#: Defaults; callers (the API's settings) may pass their own.
MAX_EXTRACTED_BYTES = 2048 * MiB
MAX_COMPRESSION_RATIO = 200
MAX_MEMBERS = 10_000
#: Below this many bytes in all, the archive's overall ratio is not checked (a small table of
#: repeated text compresses far more than 200 times and is harmless).
RATIO_FREE_BYTES = 16 * MiB


@dataclass(frozen=True)
class ExtractLimits:
    """Limits of :func:`safe_extract_zip`.

    Attributes
    ----------
    max_total_bytes
        Largest total uncompressed size [bytes].
    max_ratio
        Largest uncompressed/compressed ratio of a member larger than 1 MiB, and of the
        whole archive once it expands beyond 16 MiB (text tables compress 10-50 times;
        bombs compress hundreds to thousands of times, also when split into many members
        of 1 MiB each).
    max_members
        Most entries in the archive.
    """

    max_total_bytes: int = MAX_EXTRACTED_BYTES
    max_ratio: float = MAX_COMPRESSION_RATIO
    max_members: int = MAX_MEMBERS


def check_file_size(path: str | os.PathLike, *, max_bytes: int) -> int:
    """Return the file's size [bytes], refusing an empty or oversized file.

    Raises
    ------
    ValidationError
        Missing, empty or larger than ``max_bytes``.
    """
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path}: no such file or folder")
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    size = path.stat().st_size
    if size == 0:
        raise ValidationError(f"{path.name}: the file is empty (0 bytes)")
    if size > max_bytes:
        raise ValidationError(
            f"{path.name}: {size / MiB:.1f} MiB is larger than the limit of {max_bytes / MiB:.0f} MiB; "
            "split the file or import it with the command line (atlas import)"
        )
    return size


def member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its author wrote it.

    Zips made by Chinese Windows tools store GBK names without the UTF-8 flag; Python then
    decodes them as CP437 (mojibake). Re-decode such names as UTF-8, else GBK.
    """
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _safe_relative(name: str, archive: str) -> PurePosixPath:
    text = name.replace("\\", "/")
    path = PurePosixPath(text)
    if text.startswith("/") or (len(text) > 1 and text[1] == ":") or ".." in path.parts:
        raise ValidationError(
            f"{archive}: member {name!r} would be written outside the extraction folder; "
            "the archive is refused (re-create it with relative paths)"
        )
    return path


def _check_layout(plan: list[tuple[zipfile.ZipInfo, PurePosixPath]], archive: str) -> None:
    """Refuse members that cannot all be written: a file and a folder (or two files) of the
    same name, e.g. ``a`` then ``a/x``."""
    files: dict[PurePosixPath, str] = {}
    folders: set[PurePosixPath] = set()
    for info, relative in plan:
        if not relative.parts:
            continue
        for parent in list(relative.parents)[:-1]:
            if parent in files:
                raise ValidationError(f"{archive}: member {str(relative)!r} needs a folder {str(parent)!r}, but the "
                                      f"archive also holds a file of that name; re-create the archive")
            folders.add(parent)
        if info.is_dir():
            if relative in files:
                raise ValidationError(f"{archive}: {str(relative)!r} is both a file and a folder in the archive; "
                                      "re-create the archive")
            folders.add(relative)
            continue
        if relative in folders:
            raise ValidationError(f"{archive}: {str(relative)!r} is both a file and a folder in the archive; "
                                  "re-create the archive")
        if relative in files:
            raise ValidationError(f"{archive}: member {str(relative)!r} appears twice; re-create the archive")
        files[relative] = info.filename


def safe_extract_zip(archive: str | os.PathLike, destination: str | os.PathLike, *,
                     limits: ExtractLimits = ExtractLimits()) -> list[Path]:
    """Extract a zip into ``destination``, refusing anything unsafe; return the files written.

    Parameters
    ----------
    archive
        The zip file.
    destination
        An existing, empty folder.
    limits
        Size, ratio and member-count limits.

    Raises
    ------
    ValidationError
        Not a zip; encrypted; a member with an absolute path, ``..`` or a symbolic link;
        more members, more bytes or a higher compression ratio than the limits (checked on
        the declared sizes first, then on the bytes actually written).
    """
    archive = Path(archive)
    destination = Path(destination)
    try:
        handle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise ValidationError(f"{archive.name}: not a zip archive (or a damaged one)") from None
    written: list[Path] = []
    with handle:
        infos = handle.infolist()
        if len(infos) > limits.max_members:
            raise TooLarge(
                f"{archive.name}: {len(infos)} entries is more than the limit of {limits.max_members} members "
                "per archive; zip only the files to import"
            )
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            raise TooLarge(
                f"{archive.name}: expands to {declared / MiB:.0f} MiB, more than the limit of "
                f"{limits.max_total_bytes / MiB:.0f} MiB uncompressed per archive; split it"
            )
        compressed = sum(i.compress_size for i in infos)
        if declared > RATIO_FREE_BYTES and compressed and declared / compressed > limits.max_ratio:
            raise TooLarge(
                f"{archive.name}: its {len(infos)} members expand {declared / compressed:.0f} times in all "
                f"({compressed / MiB:.1f} MiB to {declared / MiB:.0f} MiB; limit {limits.max_ratio:g} times "
                f"beyond {RATIO_FREE_BYTES // MiB} MiB); it looks like a decompression bomb and is refused"
            )
        plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        for info in infos:
            name = member_name(info)
            if info.flag_bits & 0x1:
                raise ValidationError(f"{archive.name}: member {name!r} is encrypted; send an unencrypted zip")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ValidationError(f"{archive.name}: member {name!r} is a symbolic link; links are refused")
            relative = _safe_relative(name, archive.name)
            if info.file_size > MiB and info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                raise TooLarge(
                    f"{archive.name}: member {name!r} expands {info.file_size / info.compress_size:.0f} times "
                    f"(limit {limits.max_ratio:g}); it looks like a decompression bomb and is refused"
                )
            plan.append((info, relative))
        _check_layout(plan, archive.name)
        total = 0
        root = destination.resolve()
        for info, relative in plan:
            target = (root / Path(*relative.parts)) if relative.parts else root
            if not target.resolve().is_relative_to(root):
                raise ValidationError(f"{archive.name}: member {relative} escapes the extraction folder")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            member_total = 0
            with handle.open(info) as source, open(target, "wb") as sink:
                while block := source.read(MiB):
                    member_total += len(block)
                    total += len(block)
                    if member_total > info.file_size or total > limits.max_total_bytes:
                        raise TooLarge(
                            f"{archive.name}: member {relative} expands beyond its declared size or the "
                            f"limit of {limits.max_total_bytes / MiB:.0f} MiB; refused"
                        )
                    sink.write(block)
            written.append(target)
    return written
