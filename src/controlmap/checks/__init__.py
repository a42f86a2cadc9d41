"""Built-in checks. Importing this package registers every check module in it.

Each service has its own module (``s3.py``, ``iam.py``…); shared analysis (policy documents)
lives beside them. Modules are discovered, so adding a service needs no edit here.
"""

import importlib
import pkgutil

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
