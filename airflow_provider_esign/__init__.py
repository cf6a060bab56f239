"""Apache Airflow provider for e-signatures: Legalesign, WeSignature and eSignBase.

Importing this package is cheap on purpose (no Airflow, no HTTP client): DAG files import
operators from the sub-packages, which load their heavy dependencies lazily.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
