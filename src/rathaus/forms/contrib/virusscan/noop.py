"""The default: no scanning (a machine without ClamAV)."""


class NoScanner:
    def scan(self, data: bytes) -> str | None:
        return None
