"""The document store: files kept once under their SHA-256, behind an interface an S3 store can also meet."""
import hashlib
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol

from flask import current_app

CHUNK_SIZE = 1024 * 1024


class FileTooLarge(Exception):
    def __init__(self, max_bytes: int):
        super().__init__(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
        self.max_bytes = max_bytes


class StoredFileMissing(Exception):
    """A document's record exists but its file is not in the store (lost, or never copied to this store)."""

    def __init__(self, sha256: str):
        super().__init__(f"no stored file {sha256}")
        self.sha256 = sha256


@dataclass(frozen=True)
class StagedFile:
    """An upload written to the store's staging area, hashed and measured, not yet committed."""

    path: Path
    sha256: str
    size: int


class StagingFile:
    """A new file in the store's staging area that hashes and measures what is written to it, for werkzeug to write
    an uploaded part into as it parses the request (certify/request_limits.py): the store then takes the file as it
    arrived, rather than copying a temporary file of werkzeug's once more. Reads and seeks are the file's own.

    Closed without being handed to the store (an upload refused, any other multipart request), it is deleted.
    """

    def __init__(self, directory: Path):
        handle, name = tempfile.mkstemp(dir=directory)
        self.path = Path(name)
        self._file = os.fdopen(handle, "w+b")
        self._digest = hashlib.sha256()
        self.size = 0
        self._handed_over = False

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self.size += len(data)
        return self._file.write(data)

    def __getattr__(self, name: str):
        return getattr(self._file, name)

    def hand_over(self, max_bytes: int) -> StagedFile:
        """The file as staged; from now on the store's to commit, discard or quarantine."""
        self._file.close()
        if self.size > max_bytes:
            self.close()
            raise FileTooLarge(max_bytes)
        self._handed_over = True
        return StagedFile(self.path, self._digest.hexdigest(), self.size)

    def close(self) -> None:
        self._file.close()
        if not self._handed_over:  # once handed over, the name may already be another upload's
            self.path.unlink(missing_ok=True)


class DocumentStore(Protocol):
    def staging_file(self) -> StagingFile: ...
    def stage(self, stream: BinaryIO, max_bytes: int) -> StagedFile: ...
    def commit(self, staged: StagedFile) -> None: ...
    def discard(self, staged: StagedFile) -> None: ...
    def quarantine(self, staged: StagedFile) -> None: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def local_copy(self, sha256: str) -> "contextmanager[Path]": ...


class LocalDiskStore:
    """Files under <root>/<aa>/<bb>/<sha256>; staging under <root>/staging, on the same disk for atomic renames."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.staging = self.root / "staging"
        self.staging.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def staging_file(self) -> StagingFile:
        return StagingFile(self.staging)

    def stage(self, stream: BinaryIO, max_bytes: int) -> StagedFile:
        """The upload as a staged file: taken as it is when it was written into this store's staging area as it
        arrived, else copied chunk by chunk while hashing it (never more than one chunk in memory)."""
        if isinstance(stream, StagingFile) and stream.path.parent == self.staging:
            return stream.hand_over(max_bytes)
        digest, size = hashlib.sha256(), 0
        handle, name = tempfile.mkstemp(dir=self.staging)
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileTooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            os.unlink(name)
            raise
        return StagedFile(Path(name), digest.hexdigest(), size)

    def commit(self, staged: StagedFile) -> None:
        target = self.path_for(staged.sha256)
        if target.exists():  # the same content is stored once
            self.discard(staged)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(staged.path, 0o640)
        os.replace(staged.path, target)

    def discard(self, staged: StagedFile) -> None:
        staged.path.unlink(missing_ok=True)

    def quarantine(self, staged: StagedFile) -> None:
        """Sets a file the malware scanner flagged aside under <root>/quarantine, out of reach of every download,
        for the ministry to examine."""
        target = self.root / "quarantine" / staged.sha256
        target.parent.mkdir(mode=0o700, exist_ok=True)
        os.chmod(staged.path, 0o600)
        os.replace(staged.path, target)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return open(self.path_for(sha256), "rb")
        except FileNotFoundError:
            raise StoredFileMissing(sha256) from None

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """A path to read the file from; for this store the file itself (an S3 store would download it)."""
        yield self.path_for(sha256)


def document_store() -> DocumentStore:
    store = current_app.extensions.get("document_store")
    if store is None:
        store = current_app.extensions["document_store"] = LocalDiskStore(current_app.config["STORAGE_DIR"])
    return store
