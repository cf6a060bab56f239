"""The one registry of vendors: every ``hooks/<conn_type>/`` package with an ``info`` module.

A vendor is declared once, by the :class:`VendorInfo` subclass in ``hooks/<conn_type>/info.py``
(connection type, names, defaults, connection form), which its hook class inherits. The declaration
is plain data importing nothing from Airflow, because Airflow reads the provider info
(``get_provider_info``) while it configures itself. :func:`get_hook`, the provider info and the
connection forms are derived from here; loading one vendor's hook imports only that vendor.
"""

from __future__ import annotations

import pkgutil
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any, ClassVar


class VendorInfo:
    """What a vendor declares about itself (inherited by its hook class)."""

    #: ``module.Class`` of the vendor's hook.
    hook_class_path: ClassVar[str]
    #: Airflow connection type, e.g. ``legalesign`` (also the vendor's package name).
    conn_type: ClassVar[str]
    #: Default Airflow connection id.
    default_conn_name: ClassVar[str]
    #: Human name, shown in the Airflow UI.
    hook_name: ClassVar[str]
    #: The vendor key in :class:`DocumentInfo` and in event payloads (the connection type).
    vendor: ClassVar[str]
    #: The vendor's default API base URL.
    default_host: ClassVar[str]
    #: The vendor's public API documentation.
    external_doc_url: ClassVar[str] = ""
    #: Client-side calls per minute when the connection sets none (0 = off).
    default_rate_limit_per_minute: ClassVar[float] = 0
    #: The vendor's own connection-form fields (``conn-fields`` of the provider info).
    conn_fields: ClassVar[dict[str, dict[str, Any]]] = {}
    #: The vendor's connection-form behaviour (hidden fields, labels, placeholders).
    ui_field_behaviour: ClassVar[dict[str, Any]] = {}


@cache
def conn_types() -> tuple[str, ...]:
    """The connection types of every vendor package, sorted (nothing is imported)."""
    folder = Path(__file__).parent
    return tuple(
        sorted(
            info.name
            for info in pkgutil.iter_modules([str(folder)])
            if info.ispkg and (folder / info.name / "info.py").is_file()
        )
    )


@cache
def vendor_info(conn_type: str) -> type[VendorInfo]:
    """The declaration of a connection type (``KeyError`` for an unknown one); imports no hook."""
    normalized = (conn_type or "").replace("-", "_")
    if normalized not in conn_types():
        raise KeyError(conn_type)
    module = import_module(f"{__package__}.{normalized}.info")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, VendorInfo)
        and value.__module__ == module.__name__
        and getattr(value, "conn_type", None) == normalized
    ]
    if len(found) != 1:
        raise LookupError(f"{module.__name__} must declare exactly one vendor with conn_type {normalized!r}")
    return found[0]


def vendor_infos() -> list[type[VendorInfo]]:
    """Every vendor's declaration, in connection-type order."""
    return [vendor_info(conn_type) for conn_type in conn_types()]


@cache
def hook_class(conn_type: str) -> type[Any]:
    """The hook class of a connection type, an ``ESignHook`` subclass (imports that vendor's hook
    only; this module imports no hook module, not even for types)."""
    module, _, name = vendor_info(conn_type).hook_class_path.rpartition(".")
    return getattr(import_module(module), name)


def lazy_exports(package: str, exports: dict[str, str]) -> Any:
    """A module ``__getattr__`` for a vendor package: ``name`` loads from ``package.exports[name]``
    on first access, so importing the package (to read its ``info``) imports no hook."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{exports[name]}"), name)

    return __getattr__
