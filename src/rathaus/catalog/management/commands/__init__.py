from pathlib import Path


def import_leika_path() -> Path:
    """The LeiKa CSV shipped with Rathaus (a copy of ../shared/data/leika/leika-services.csv)."""
    return Path(__file__).resolve().parents[2] / "data" / "leika-services.csv"
