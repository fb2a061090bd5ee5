"""One package per competition. Importing this package registers all of them.

Adding a competition is adding one sub-package whose `__init__` calls `common.registry.register`;
it is discovered here without any list to edit.
"""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if _module.ispkg:
        importlib.import_module(f"{__name__}.{_module.name}")
