"""rj: restorative justice conference scheduling for Stockport."""
from rj.app import create_app

__version__ = "0.1.0"
__all__ = ["create_app", "__version__"]
