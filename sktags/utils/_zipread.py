"""Read members of an untrusted zip archive within declared limits.

:class:`BoundedZip` checks the central directory before anything is
inflated (member count, each member's and the total uncompressed size,
duplicate names), inflates in chunks never past a member's declared size,
and reads a ``.npy`` member's header (shape and dtype) before its data.
Every problem is a :class:`DamagedArchive` with a one-line reason.
"""

import io
import zipfile

import numpy as np

#: dtype kinds an array member may hold (no objects, no structured records).
ARRAY_KINDS = "biufcUSV"
_CHUNK = 1 << 20


class DamagedArchive(Exception):
    """Why an archive (or what it holds) is damaged, in one line."""


def one_line(exc):
    """An exception's text on one line, at most 200 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def check_depth(value, max_depth):
    """Refuse JSON data nested deeper than ``max_depth`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise DamagedArchive(f"its JSON is nested more than {max_depth} levels deep")
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else ()
        stack.extend((child, depth + 1) for child in children)


class BoundedZip:
    """The members of an open :class:`zipfile.ZipFile`, read within limits.

    Parameters
    ----------
    archive : zipfile.ZipFile
    max_member, max_total : int
        Largest uncompressed size of one member, and of all of them, in bytes.
    max_members : int
        Largest number of members.
    """

    def __init__(self, archive, *, max_member, max_total, max_members):
        self.archive = archive
        self.max_member = max_member
        infos = archive.infolist()
        if len(infos) > max_members:
            raise DamagedArchive(f"it has {len(infos)} members (at most {max_members})")
        self.infos, total = {}, 0
        for info in infos:
            if info.filename in self.infos:
                raise DamagedArchive(f"the member {info.filename!r} appears twice")
            if info.file_size > max_member:
                raise DamagedArchive(
                    f"{info.filename} declares {info.file_size} bytes uncompressed (at most "
                    f"{max_member}); a zip bomb or not a model")
            total += info.file_size
            self.infos[info.filename] = info
        if total > max_total:
            raise DamagedArchive(f"its members declare {total} bytes uncompressed (at most "
                                 f"{max_total}); a zip bomb or not a model")

    def info(self, name):
        """The :class:`zipfile.ZipInfo` of member ``name``."""
        if not isinstance(name, str) or name not in self.infos:
            raise DamagedArchive(f"the member {str(name)[:80]!r} is missing")
        return self.infos[name]

    def read(self, name, limit=None):
        """A member's bytes, inflated in chunks, never past its declared size or ``limit``."""
        info = self.info(name)
        limit = self.max_member if limit is None else limit
        if info.file_size > limit:
            raise DamagedArchive(f"{name} declares {info.file_size} bytes (at most {limit})")
        chunks, size = [], 0
        try:
            with self.archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    size += len(chunk)
                    if size > info.file_size:
                        raise DamagedArchive(f"{name} inflates past its declared size")
                    chunks.append(chunk)
        except DamagedArchive:
            raise
        except Exception as exc:  # noqa: BLE001 - BadZipFile (CRC), zlib.error, EOFError, ...
            raise DamagedArchive(f"{name} cannot be read ({one_line(exc)})") from None
        return b"".join(chunks)

    def array(self, name):
        """A ``.npy`` member; its header's shape and dtype are checked before its data is read."""
        info = self.info(name)
        try:
            with self.archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                          else np.lib.format.read_array_header_2_0)
                shape, _, dtype = reader(member, max_header_size=10_000)
        except Exception as exc:  # noqa: BLE001 - BadZipFile, zlib.error, a bad header, ...
            raise DamagedArchive(f"{name} is not a .npy array ({one_line(exc)})") from None
        if dtype.hasobject or dtype.kind not in ARRAY_KINDS or dtype.fields is not None:
            raise DamagedArchive(f"{name} declares the dtype {dtype}, which is not plain data")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if nbytes > info.file_size:
            raise DamagedArchive(f"{name} declares shape {shape} of {dtype} ({nbytes} bytes), "
                                 f"more than its {info.file_size} bytes hold")
        try:
            return np.load(io.BytesIO(self.read(name)), allow_pickle=False)
        except (ValueError, EOFError, OSError) as exc:
            raise DamagedArchive(f"{name} is not a .npy array ({one_line(exc)})") from None


def open_zip(path):
    """:class:`zipfile.ZipFile` of ``path``; a :class:`DamagedArchive` if it cannot be read."""
    try:
        return zipfile.ZipFile(path)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, a bad central directory, ...
        raise DamagedArchive(f"not a readable zip ({one_line(exc)})") from None
